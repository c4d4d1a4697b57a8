import type { UserInfo } from '../../src/core/identity.js';

/**
 * The few kube-apiserver answers kubectl needs from the double: version, minimal discovery, and
 * SelfSubjectReview (`kubectl auth whoami`), plus the Status objects of failures. Shapes follow
 * k8s.io/apimachinery's JSON (`metav1.Status`, `version.Info`, `APIVersions`, `APIGroupList`).
 */

export interface ApiAnswer {
  status: number;
  body: unknown;
}

function failure(code: number, reason: string, message: string): ApiAnswer {
  return {
    status: code,
    body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code },
  };
}

/** What every request that fails authentication gets: the apiserver never says why. */
export const unauthorized = failure(401, 'Unauthorized', 'Unauthorized');

const notFound = failure(404, 'NotFound', 'the server could not find the requested resource');

function versionInfo(minor: number): unknown {
  return {
    major: '1',
    minor: String(minor),
    emulationMajor: '1',
    emulationMinor: String(minor),
    gitVersion: `v1.${minor}.0`,
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2025-01-01T00:00:00Z',
    goVersion: 'go1.25.0',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}

const authenticationGroup = {
  name: 'authentication.k8s.io',
  versions: [{ groupVersion: 'authentication.k8s.io/v1', version: 'v1' }],
  preferredVersion: { groupVersion: 'authentication.k8s.io/v1', version: 'v1' },
};

const authenticationResources = {
  kind: 'APIResourceList',
  apiVersion: 'v1',
  groupVersion: 'authentication.k8s.io/v1',
  resources: [
    {
      name: 'selfsubjectreviews',
      singularName: 'selfsubjectreview',
      namespaced: false,
      kind: 'SelfSubjectReview',
      verbs: ['create'],
    },
    {
      name: 'tokenreviews',
      singularName: 'tokenreview',
      namespaced: false,
      kind: 'TokenReview',
      verbs: ['create'],
    },
  ],
};

function selfSubjectReview(user: UserInfo, now: Date): unknown {
  return {
    kind: 'SelfSubjectReview',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: { creationTimestamp: now.toISOString().replace(/\.\d{3}Z$/, 'Z') },
    status: {
      userInfo: {
        username: user.username,
        ...(user.uid ? { uid: user.uid } : {}),
        ...(user.groups.length > 0 ? { groups: user.groups } : {}),
        ...(Object.keys(user.extra).length > 0 ? { extra: user.extra } : {}),
      },
    },
  };
}

/** Routes an authenticated request. Authorization is not simulated: every authenticated user may do these. */
export function answerKubeApi(
  method: string,
  path: string,
  user: UserInfo,
  context: { kubernetesMinor: number; serverAddress: string; now: Date },
): ApiAnswer {
  const route = `${method} ${path}`;
  switch (route) {
    case 'GET /version':
      return { status: 200, body: versionInfo(context.kubernetesMinor) };
    case 'GET /api':
      return {
        status: 200,
        body: {
          kind: 'APIVersions',
          versions: ['v1'],
          serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: context.serverAddress }],
        },
      };
    case 'GET /apis':
      return { status: 200, body: { kind: 'APIGroupList', apiVersion: 'v1', groups: [authenticationGroup] } };
    case 'GET /apis/authentication.k8s.io':
      return { status: 200, body: { kind: 'APIGroup', apiVersion: 'v1', ...authenticationGroup } };
    case 'GET /apis/authentication.k8s.io/v1':
      return { status: 200, body: authenticationResources };
    case 'POST /apis/authentication.k8s.io/v1/selfsubjectreviews':
      return { status: 201, body: selfSubjectReview(user, context.now) };
    default:
      return notFound;
  }
}
