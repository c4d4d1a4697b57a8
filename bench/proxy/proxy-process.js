// The proxy under test, exactly as `kube-oidc-bridge serve` builds it (built dist code), in its own
// process so it can be pinned to one core and its RSS read alone.
// Usage: node proxy-process.js CONFIG_FILE   (reports {url} over IPC, stops on SIGTERM)
import { loadConfigFile } from '../../dist/config/index.js';
import { startServices } from '../../dist/server/index.js';
import { answerLoopDelayQueries } from '../lib/loop-delay.js';

const config = loadConfigFile(process.argv[2], process.env);
const services = await startServices(config, { env: process.env });
process.send({ url: services.proxyURL });
answerLoopDelayQueries();
process.once('SIGTERM', () => {
  services.close().then(() => process.exit(0));
});
