{{/* Names and labels. */}}

{{- define "kob.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Kept short enough that "<fullname>-verifier" and friends stay valid DNS labels. */}}
{{- define "kob.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "kob.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kob.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "kob.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "kob.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "kob.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "kob.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "kob.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* Where the projected volume (config file, secrets, certificates) is mounted. */}}
{{- define "kob.configDir" -}}/etc/kube-oidc-bridge{{- end -}}

{{/*
kob.fileRef: turns a reference to a key of a Secret (or, for public files such as CA bundles, of a
ConfigMap) into the path the key is mounted at, and records the mount in .state.sources.
Arguments (dict): state, ref, field (values path, for messages), path (below the config dir),
optional (an empty name means "not configured"), allowConfigMap.
Prints the absolute path, or nothing when optional and not configured.
*/}}
{{- define "kob.fileRef" -}}
{{- $ref := .ref -}}
{{- $shape := ternary "{secretName: NAME, key: KEY} or {configMapName: NAME, key: KEY}" "{secretName: NAME, key: KEY}" (default false .allowConfigMap) -}}
{{- if kindIs "string" $ref -}}
{{- fail (printf "%s must reference a key of an existing Secret as %s: inline values would end up in the ConfigMap" .field $shape) -}}
{{- end -}}
{{- if and (not (kindIs "invalid" $ref)) (not (kindIs "map" $ref)) -}}
{{- fail (printf "%s must be %s" .field $shape) -}}
{{- end -}}
{{- $ref = default dict $ref -}}
{{- range $k, $_ := $ref -}}
{{- if not (has $k (list "secretName" "configMapName" "key")) -}}
{{- fail (printf "%s.%s is not supported: give %s (the chart mounts the key and passes its file path)" $.field $k $shape) -}}
{{- end -}}
{{- end -}}
{{- if and $ref.configMapName (not .allowConfigMap) -}}
{{- fail (printf "%s must come from a Secret, not a ConfigMap" .field) -}}
{{- end -}}
{{- if and $ref.secretName $ref.configMapName -}}
{{- fail (printf "%s: give secretName or configMapName, not both" .field) -}}
{{- end -}}
{{- if or $ref.secretName $ref.configMapName -}}
{{- if not $ref.key -}}
{{- fail (printf "%s.key is required" .field) -}}
{{- end -}}
{{- $source := dict "kind" (ternary "secret" "configMap" (not (empty $ref.secretName))) "name" (default $ref.configMapName $ref.secretName) "key" $ref.key "path" .path -}}
{{- $_ := set .state "sources" (append .state.sources $source) -}}
{{- printf "%s/%s" .state.dir .path -}}
{{- else if not .optional -}}
{{- fail (printf "%s.secretName is required" .field) -}}
{{- end -}}
{{- end -}}

{{/*
kob.rendered: the bridge's configuration file built from the values, plus the list of Secret and
ConfigMap keys it refers to (the projected volume's sources). One template computes both, so the
config never points at a file the pod does not mount.
Output: YAML {config: {...}, sources: [{kind, name, key, path}]}.
*/}}
{{- define "kob.rendered" -}}
{{- $v := .Values -}}
{{- $state := dict "dir" (include "kob.configDir" .) "sources" (list) -}}
{{- if not (or $v.verifier.enabled $v.issuer.enabled (and $v.proxy $v.proxy.enabled)) -}}
{{- fail "enable at least one role: verifier.enabled, issuer.enabled or proxy.enabled" -}}
{{- end -}}
{{- $config := dict -}}

{{- /* store.redis: exactly one of url / sentinel / cluster; credentials and CA come from mounted files. */ -}}
{{- $r := $v.store.redis -}}
{{- $sentinel := default dict $r.sentinel -}}
{{- $sp := default dict $sentinel.password -}}
{{- $cluster := default dict $r.cluster -}}
{{- $modes := list -}}
{{- if $r.url -}}
{{- $modes = append $modes "url" -}}
{{- end -}}
{{- /* Any sentinel key set selects Sentinel, so sentinel credentials are never silently ignored. */ -}}
{{- if or $sentinel.name $sentinel.nodes $sentinel.username (not (kindIs "map" $sp)) $sp.secretName (without (keys $sp) "key" "secretName") -}}
{{- $modes = append $modes "sentinel" -}}
{{- end -}}
{{- if $cluster.nodes -}}
{{- $modes = append $modes "cluster" -}}
{{- end -}}
{{- if eq (len $modes) 0 -}}
{{- fail "store.redis: set one of url, sentinel (name and nodes) or cluster (nodes) (replicas share their state through Redis)" -}}
{{- end -}}
{{- if gt (len $modes) 1 -}}
{{- fail (printf "store.redis: set only one of url, sentinel or cluster, not %s (the others empty: url: \"\", nodes: [])" (join " and " $modes)) -}}
{{- end -}}
{{- $redis := omit $r "url" "sentinel" "cluster" "username" "password" "tlsCA" -}}
{{- $mode := first $modes -}}
{{- if eq $mode "url" -}}
{{- if contains ":" (default "" (urlParse $r.url).userinfo) -}}
{{- fail "store.redis.url must not contain a password: use store.redis.username and store.redis.password (a Secret reference)" -}}
{{- end -}}
{{- $_ := set $redis "url" $r.url -}}
{{- else if eq $mode "sentinel" -}}
{{- if not $sentinel.name -}}
{{- fail "store.redis.sentinel.name is required with Sentinel: the master group name the sentinels monitor" -}}
{{- end -}}
{{- if not $sentinel.nodes -}}
{{- fail "store.redis.sentinel.nodes is required with Sentinel: host:port of each sentinel" -}}
{{- end -}}
{{- $out := dict "name" $sentinel.name "nodes" $sentinel.nodes -}}
{{- if $sentinel.username -}}
{{- $_ := set $out "username" $sentinel.username -}}
{{- end -}}
{{- $file := include "kob.fileRef" (dict "state" $state "ref" $sentinel.password "field" "store.redis.sentinel.password" "path" "secrets/redis-sentinel-password" "optional" true) -}}
{{- if $file -}}
{{- $_ := set $out "password" (dict "file" $file) -}}
{{- end -}}
{{- $_ := set $redis "sentinel" $out -}}
{{- else -}}
{{- $_ := set $redis "cluster" (dict "nodes" $cluster.nodes) -}}
{{- end -}}
{{- if $r.username -}}
{{- $_ := set $redis "username" $r.username -}}
{{- end -}}
{{- $file := include "kob.fileRef" (dict "state" $state "ref" $r.password "field" "store.redis.password" "path" "secrets/redis-password" "optional" true) -}}
{{- if $file -}}
{{- $_ := set $redis "password" (dict "file" $file) -}}
{{- end -}}
{{- $file = include "kob.fileRef" (dict "state" $state "ref" $r.tlsCA "field" "store.redis.tlsCA" "path" "files/redis-ca.crt" "optional" true "allowConfigMap" true) -}}
{{- if and $file (ne $mode "url") -}}
{{- fail "store.redis.tlsCA only applies to a rediss:// url (Sentinel and Cluster connections are plain TCP)" -}}
{{- end -}}
{{- if $file -}}
{{- $_ := set $redis "tlsCA" $file -}}
{{- end -}}
{{- $_ := set $config "store" (dict "redis" $redis) -}}

{{- /* tokens */ -}}
{{- $tokens := omit $v.tokens "pepper" -}}
{{- $file = include "kob.fileRef" (dict "state" $state "ref" $v.tokens.pepper "field" "tokens.pepper" "path" "secrets/token-pepper" "optional" true) -}}
{{- if $file -}}
{{- $_ := set $tokens "pepper" (dict "file" $file) -}}
{{- end -}}
{{- $_ = set $config "tokens" $tokens -}}

{{- /* verifier: listens on all interfaces, TLS material from the mounted Secret(s). */ -}}
{{- if $v.verifier.enabled -}}
{{- $tlsValues := $v.verifier.tls -}}
{{- if not $tlsValues.secretName -}}
{{- fail "verifier.tls.secretName is required: the verifier only serves HTTPS with client certificates" -}}
{{- end -}}
{{- $tls := dict -}}
{{- $_ = set $tls "cert" (include "kob.fileRef" (dict "state" $state "ref" (dict "secretName" $tlsValues.secretName "key" "tls.crt") "field" "verifier.tls.secretName" "path" "verifier/tls.crt")) -}}
{{- $_ = set $tls "key" (include "kob.fileRef" (dict "state" $state "ref" (dict "secretName" $tlsValues.secretName "key" "tls.key") "field" "verifier.tls.secretName" "path" "verifier/tls.key")) -}}
{{- $clientCA := dict "secretName" (default $tlsValues.secretName $tlsValues.clientCA.secretName) "key" $tlsValues.clientCA.key -}}
{{- $_ = set $tls "clientCA" (include "kob.fileRef" (dict "state" $state "ref" $clientCA "field" "verifier.tls.clientCA" "path" "verifier/client-ca.crt")) -}}
{{- if $tlsValues.allowedSubjects -}}
{{- $_ = set $tls "allowedSubjects" $tlsValues.allowedSubjects -}}
{{- end -}}
{{- $verifier := omit $v.verifier "enabled" "port" "tls" "service" -}}
{{- $_ = set $verifier "listen" (printf ":%d" (int $v.verifier.port)) -}}
{{- $_ = set $verifier "tls" $tls -}}
{{- $_ = set $config "verifier" $verifier -}}
{{- end -}}

{{- /* issuer: plain HTTP behind the Service/Ingress, keys and upstream credentials from Secrets. */ -}}
{{- if $v.issuer.enabled -}}
{{- $issuer := omit $v.issuer "enabled" "port" "service" "cookieSecret" "encryptionKey" "trustProxy" "upstreams" -}}
{{- $_ = set $issuer "listen" (printf ":%d" (int $v.issuer.port)) -}}
{{- $_ = set $issuer "cookieSecret" (dict "file" (include "kob.fileRef" (dict "state" $state "ref" $v.issuer.cookieSecret "field" "issuer.cookieSecret" "path" "secrets/cookie-secret"))) -}}
{{- $_ = set $issuer "encryptionKey" (dict "file" (include "kob.fileRef" (dict "state" $state "ref" $v.issuer.encryptionKey "field" "issuer.encryptionKey" "path" "secrets/encryption-key"))) -}}
{{- /* true, false or a list of proxy addresses/CIDR ranges go through as they are; null follows the Ingress. */ -}}
{{- $trustProxy := $v.issuer.trustProxy -}}
{{- if kindIs "invalid" $trustProxy -}}
{{- $trustProxy = $v.ingress.enabled -}}
{{- end -}}
{{- $_ = set $issuer "trustProxy" $trustProxy -}}
{{- $upstreams := list -}}
{{- range $i, $u := $v.issuer.upstreams -}}
{{- $field := printf "issuer.upstreams[%d]" $i -}}
{{- $name := required (printf "%s.name is required" $field) $u.name -}}
{{- $upstream := omit $u "clientSecret" "privateKey" "caFile" -}}
{{- $file = include "kob.fileRef" (dict "state" $state "ref" $u.clientSecret "field" (printf "%s.clientSecret" $field) "path" (printf "upstreams/%s/client-secret" $name) "optional" true) -}}
{{- if $file -}}
{{- $_ = set $upstream "clientSecret" (dict "file" $file) -}}
{{- end -}}
{{- $file = include "kob.fileRef" (dict "state" $state "ref" $u.privateKey "field" (printf "%s.privateKey" $field) "path" (printf "upstreams/%s/private-key" $name) "optional" true) -}}
{{- if $file -}}
{{- $_ = set $upstream "privateKey" (dict "file" $file) -}}
{{- end -}}
{{- $file = include "kob.fileRef" (dict "state" $state "ref" $u.caFile "field" (printf "%s.caFile" $field) "path" (printf "upstreams/%s/ca.crt" $name) "optional" true "allowConfigMap" true) -}}
{{- if $file -}}
{{- $_ = set $upstream "caFile" $file -}}
{{- end -}}
{{- $upstreams = append $upstreams $upstream -}}
{{- end -}}
{{- $_ = set $issuer "upstreams" $upstreams -}}
{{- $_ = set $config "issuer" $issuer -}}
{{- end -}}

{{- $_ = set $config "mapping" $v.mapping -}}
{{- /* Without the issuer in this config (the proxy's, a verifier-only install), each upstream's own
       rules travel as upstreamMappings, so every role maps a token as the issuer does. */ -}}
{{- $separate := deepCopy (default dict $v.upstreamMappings) -}}
{{- if not $v.issuer.enabled -}}
{{- range $i, $u := $v.issuer.upstreams -}}
{{- if and $u.name $u.mapping -}}
{{- if hasKey $separate $u.name -}}
{{- fail (printf "upstreamMappings.%s: issuer.upstreams[%d].mapping already gives this upstream's rules; keep one" $u.name $i) -}}
{{- end -}}
{{- $_ = set $separate $u.name $u.mapping -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if $separate -}}
{{- $_ = set $config "upstreamMappings" $separate -}}
{{- end -}}
{{- $_ = set $config "logging" $v.logging -}}
{{- /* Probes and metrics: the verifier listener wants a client certificate the kubelet lacks. */ -}}
{{- $_ = set $config "ops" (dict "listen" (printf ":%d" (int $v.ops.port))) -}}
{{- toYaml (dict "config" $config "sources" $state.sources) -}}
{{- end -}}
