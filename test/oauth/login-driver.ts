import { HttpBrowser, signInThroughIdp } from '../support/oidc-provider.js';

/** Pulls the CSRF token out of one of the issuer's forms. */
export function csrfFrom(page: string): string {
  const match = /name="csrf" value="([^"]+)"/.exec(page);
  if (!match?.[1]) throw new Error('no CSRF token on the page');
  return match[1];
}

/**
 * Approves a device code the way a person does: open /device, type the code, see the confirmation,
 * approve with the upstream, sign in at the IdP. Returns the final page.
 */
export async function approveDeviceCode(
  issuerURL: string,
  userCode: string,
  user = { username: 'alice', password: 'alice-password' },
  browser = new HttpBrowser(),
): Promise<{ status: number; body: string }> {
  const entry = await browser.follow(`${issuerURL}/device?user_code=${encodeURIComponent(userCode)}`);
  const csrf = csrfFrom(await entry.response.text());
  const confirm = await browser.submitForm(`${issuerURL}/device`, { csrf, user_code: userCode });
  const confirmPage = await confirm.response.text();
  if (confirm.response.status !== 200) return { status: confirm.response.status, body: confirmPage };
  const approve = new URLSearchParams({
    csrf: csrfFrom(confirmPage),
    user_code: userCode,
    decision: 'approve',
    upstream: 'corp',
  });
  const started = await browser.request(`${issuerURL}/device/confirm`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: approve.toString(),
  });
  const location = started.headers.get('location');
  if (!location) return { status: started.status, body: await started.text() };
  const done = await signInThroughIdp(browser, new URL(location, issuerURL).href, user);
  return { status: done.response.status, body: done.body };
}
