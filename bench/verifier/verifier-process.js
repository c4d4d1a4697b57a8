// The verifier under test, exactly as `kube-oidc-bridge serve` builds it (built dist code, production
// config shape), in its own process so it can be pinned to one core and its RSS read alone.
// Usage: node verifier-process.js CONFIG_FILE   (reports {url} over IPC, stops on SIGTERM)
import { loadConfigFile } from '../../dist/config/index.js';
import { startServices } from '../../dist/server/index.js';
import { answerLoopDelayQueries } from '../lib/loop-delay.js';

const config = loadConfigFile(process.argv[2], process.env);
const services = await startServices(config, { env: process.env });
process.send({ url: services.verifierURL });
answerLoopDelayQueries();
process.once('SIGTERM', () => {
  // A normal exit (not death by signal) lets --cpu-prof write its profile.
  services.close().then(() => process.exit(0));
});
