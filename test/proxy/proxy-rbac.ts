/**
 * What the proxy's service account needs at the apiserver, and nothing broader: `impersonate` on users,
 * groups, uids and the one extra key the test mapping produces (the Helm chart grants the same shape).
 */
export const PROXY_RBAC_MANIFEST = `
apiVersion: v1
kind: Namespace
metadata:
  name: kob-proxy
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: kob-proxy
  namespace: kob-proxy
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: kob-proxy-impersonate
rules:
  - apiGroups: [""]
    resources: [users, groups]
    verbs: [impersonate]
  - apiGroups: [authentication.k8s.io]
    resources: [uids, userextras/example.com/team]
    verbs: [impersonate]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: kob-proxy-impersonate
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: kob-proxy-impersonate
subjects:
  - kind: ServiceAccount
    name: kob-proxy
    namespace: kob-proxy
`;
