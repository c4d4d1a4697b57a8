{{/* The impersonation proxy: its own Deployment, ServiceAccount and configuration (docs/proxy.md). */}}

{{- define "kob.proxyFullname" -}}
{{- printf "%s-proxy" (include "kob.fullname" .) -}}
{{- end -}}

{{/* A name of its own: the verifier/issuer selectors (name + instance) must never pick proxy pods. */}}
{{- define "kob.proxySelectorLabels" -}}
app.kubernetes.io/name: {{ include "kob.name" . | trunc 57 | trimSuffix "-" }}-proxy
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: proxy
{{- end -}}

{{- define "kob.proxyLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "kob.proxySelectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "kob.proxyServiceAccountName" -}}
{{- default (include "kob.proxyFullname" .) .Values.proxy.serviceAccount.name -}}
{{- end -}}

{{/* True when the verifier/issuer Deployment has a role to run. */}}
{{- define "kob.mainEnabled" -}}
{{- if or .Values.verifier.enabled .Values.issuer.enabled -}}true{{- end -}}
{{- end -}}

{{/*
kob.proxyExtraKeys: every `extra` key the mapping rules can produce (top-level, per upstream and
upstreamMappings), as a
YAML list: the ClusterRole grants `impersonate` on userextras/<key> for exactly these.
*/}}
{{- define "kob.proxyExtraKeys" -}}
{{- $keys := list -}}
{{- $mappings := list .Values.mapping -}}
{{- range .Values.issuer.upstreams -}}
{{- if .mapping -}}
{{- $mappings = append $mappings .mapping -}}
{{- end -}}
{{- end -}}
{{- range $name, $rules := (default dict .Values.upstreamMappings) -}}
{{- $mappings = append $mappings $rules -}}
{{- end -}}
{{- range $mappings -}}
{{- range (default list (default dict .claimMappings).extra) -}}
{{- $keys = append $keys .key -}}
{{- end -}}
{{- end -}}
{{- toYaml (dict "keys" ($keys | uniq | sortAlpha)) -}}
{{- end -}}

{{/*
kob.proxyRendered: the proxy pod's configuration file and the Secret keys it mounts. The shared parts
(store, tokens, mapping, logging, ops) come from kob.rendered with the other roles switched off, so
both Deployments read the same store with the same mapping; the proxy section is added here.
Output: YAML {config: {...}, sources: [{kind, name, key, path}]}.
*/}}
{{- define "kob.proxyRendered" -}}
{{- $p := .Values.proxy -}}
{{- $values := deepCopy .Values -}}
{{- $_ := set $values.verifier "enabled" false -}}
{{- $_ = set $values.issuer "enabled" false -}}
{{- $shared := include "kob.rendered" (dict "Values" $values) | fromYaml -}}
{{- $config := $shared.config -}}
{{- $sources := $shared.sources -}}
{{- $dir := include "kob.configDir" . -}}
{{- if not $p.tls.secretName -}}
{{- fail "proxy.tls.secretName is required: the proxy serves HTTPS only (its CA goes into users' kubeconfigs)" -}}
{{- end -}}
{{- if not $p.audiences -}}
{{- fail "proxy.audiences is required: the audience tokens for this cluster are minted for (issuer.clusters[].audience)" -}}
{{- end -}}
{{- $sources = append $sources (dict "kind" "secret" "name" $p.tls.secretName "key" "tls.crt" "path" "proxy/tls.crt") -}}
{{- $sources = append $sources (dict "kind" "secret" "name" $p.tls.secretName "key" "tls.key" "path" "proxy/tls.key") -}}
{{- $upstream := dict "connectTimeout" $p.upstream.connectTimeout -}}
{{- $kc := default dict $p.upstream.kubeconfig -}}
{{- if $kc.secretName -}}
{{- $sources = append $sources (dict "kind" "secret" "name" $kc.secretName "key" (required "proxy.upstream.kubeconfig.key is required" $kc.key) "path" "proxy/upstream.kubeconfig") -}}
{{- $_ = set $upstream "kubeconfig" (printf "%s/proxy/upstream.kubeconfig" $dir) -}}
{{- if $p.upstream.context -}}
{{- $_ = set $upstream "context" $p.upstream.context -}}
{{- end -}}
{{- end -}}
{{- $proxy := dict "listen" (printf ":%d" (int $p.port)) "audiences" $p.audiences "tokenPassthrough" $p.tokenPassthrough -}}
{{- $_ = set $proxy "tls" (dict "cert" (printf "%s/proxy/tls.crt" $dir) "key" (printf "%s/proxy/tls.key" $dir)) -}}
{{- $_ = set $proxy "upstream" $upstream -}}
{{- $_ = set $config "proxy" $proxy -}}
{{- toYaml (dict "config" $config "sources" $sources) -}}
{{- end -}}
