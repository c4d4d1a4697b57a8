import * as oidc from 'openid-client';
import { toPluginError } from './issuer-connection.js';
import { printable } from './terminal-text.js';

/**
 * After an interactive login, one stderr line says whom the issuer signed us in as. A local process
 * that reads the browser's command line (/proc/PID/cmdline holds the authorize URL) can race the
 * loopback receiver with a code of its own and sign the user's kubectl in as someone else; PKCE does
 * not stop it (the challenge is public). The user seeing the wrong name is the mitigation.
 * The name comes from the issuer's userinfo for the new token: what the cluster will see.
 */
export async function announceIdentity(
  config: oidc.Configuration,
  issuer: string,
  accessToken: string,
  stderr: { write(chunk: string): unknown },
): Promise<void> {
  let info: oidc.UserInfoResponse;
  try {
    info = await oidc.fetchUserInfo(config, accessToken, oidc.skipSubjectCheck);
  } catch (err) {
    stderr.write(
      `signed in to ${printable(issuer)}, but it did not say as whom: ${toPluginError(err, 'userinfo').message}\n`,
    );
    return;
  }
  const username = printable(typeof info.username === 'string' ? info.username : info.sub, 200);
  const groups = Array.isArray(info.groups) ? info.groups.map((g) => printable(g, 200)) : [];
  stderr.write(
    `signed in to ${printable(issuer)} as ${username} (groups ${groups.length > 0 ? groups.join(', ') : 'none'})\n`,
  );
}
