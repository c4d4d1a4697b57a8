/**
 * The identity Kubernetes sees: `user` of a TokenReview status.
 * @see https://kubernetes.io/docs/reference/access-authn-authz/authentication/#webhook-token-authentication
 */
export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
  extra: Record<string, string[]>;
}

/** Claims as the upstream IdP gave them (ID token and/or userinfo), reduced to the allow-list. */
export type Claims = Record<string, unknown>;
