import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseFlags } from '../args.js';
import { type CliIO, UsageError } from '../io.js';
import { defaultCacheDir } from '../plugin/cache-location.js';
import { connectToIssuer, toPluginError } from '../plugin/issuer-connection.js';
import { TARGET_FLAGS, TARGET_USAGE, toIssuerTarget } from '../plugin/login-options.js';
import { entryFile } from '../plugin/obtain-credential.js';
import { refreshTokenStore } from '../plugin/refresh-token-store.js';
import { type CacheEntry, readCacheEntry, removeCacheEntry } from '../plugin/token-cache.js';
import { revokeAtIssuer } from '../plugin/token-revocation.js';

const USAGE = `Usage:
  kube-oidc-bridge logout --issuer URL [flags]
  kube-oidc-bridge logout --all [--cache-dir DIR] [--ca-file FILE]

Revokes the login at the issuer (RFC 7009: the session and every token it issued, for every cluster)
and deletes the cached tokens. --all does this for every issuer in the cache.

Flags:
${TARGET_USAGE}
  --all                 log out of every issuer in the cache
`;

interface Target {
  file: string;
  entry: CacheEntry;
}

function allEntries(dir: string): Target[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((name) => name.endsWith('.json'))
    .map((name) => ({ file: join(dir, name), entry: readCacheEntry(join(dir, name)) }))
    .filter((t): t is Target => t.entry !== undefined);
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseFlags(argv, { ...TARGET_FLAGS, all: { type: 'boolean' } });
  if (values.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  let targets: Target[];
  if (values.all) {
    if (values.issuer) throw new UsageError('give either --issuer or --all');
    const dir = values['cache-dir'] ?? defaultCacheDir(io.env);
    if (!dir) throw new UsageError('no home folder known: pass --cache-dir');
    targets = allEntries(dir);
  } else {
    const target = toIssuerTarget(values, io.env);
    const { file } = entryFile(target);
    const entry = readCacheEntry(file);
    targets = entry ? [{ file, entry }] : [];
  }
  if (targets.length === 0) {
    io.stderr.write('Nothing to log out of: no cached login.\n');
    return 0;
  }
  let failures = 0;
  for (const { file, entry } of targets) {
    // A refresh token kept in the OS keyring is revoked too, then removed from the keyring.
    const store = refreshTokenStore(basename(file, '.json'), 'file');
    try {
      entry.refreshToken = await store.read(entry);
      const config = await connectToIssuer({
        issuer: entry.issuer,
        clientId: entry.clientId,
        caFile: values['ca-file'],
      });
      await revokeAtIssuer(config, entry);
      io.stderr.write(`Logged out of ${entry.issuer}.\n`);
    } catch (err) {
      failures += 1;
      io.stderr.write(
        `Could not revoke the login at ${entry.issuer} (${toPluginError(err, 'revocation').message}); its tokens stay valid until they expire.\n`,
      );
    }
    await store.write(entry, undefined).catch(() => undefined);
    removeCacheEntry(file);
  }
  return failures === 0 ? 0 : 1;
}
