{{/* Names and labels. */}}

{{- define "kafka-qdrant.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "kafka-qdrant.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "kafka-qdrant.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kafka-qdrant.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: connector
{{- end -}}

{{- define "kafka-qdrant.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "kafka-qdrant.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: kafka-qdrant
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "kafka-qdrant.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "kafka-qdrant.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/*
The Secret holding the KQ__ variables: secret.existingSecret, or the one the
chart creates from the secret keys under config. Empty when there is none.
*/}}
{{- define "kafka-qdrant.secretName" -}}
{{- if .Values.secret.existingSecret -}}
{{- .Values.secret.existingSecret -}}
{{- else if include "kafka-qdrant.secretEnv" . | fromYaml -}}
{{- include "kafka-qdrant.fullname" . -}}
{{- end -}}
{{- end -}}

{{/* The config file path inside the container. */}}
{{- define "kafka-qdrant.configDir" -}}/etc/kafka-qdrant{{- end -}}

{{/* -- config ------------------------------------------------------------ */}}

{{/*
secretEnv: the secret keys set under config (the list comes from the code:
_configkeys.tpl), as a YAML map of KQ__ variable name to value; a map of
secrets (control.auth.keys) gives one variable per entry, named after it
in upper case (the loader lower-cases it back). Empty values are left out.
*/}}
{{- define "kafka-qdrant.secretEnv" -}}
{{- $env := dict -}}
{{- range $key := splitList " " (include "kafka-qdrant.secretKeys" .) -}}
{{- $parts := splitList "." $key -}}
{{- $node := $.Values.config -}}
{{- range $p := initial $parts -}}
{{- if kindIs "map" $node -}}{{- $node = get $node $p -}}{{- end -}}
{{- end -}}
{{- if kindIs "map" $node -}}
{{- $v := get $node (last $parts) -}}
{{- $name := printf "KQ__%s" ($key | replace "." "__" | upper) -}}
{{- if kindIs "map" $v -}}
{{- /* a map of secrets (control.auth.keys): one variable per entry */ -}}
{{- range $entry, $ev := $v -}}
{{- if $ev -}}
{{- $_ := set $env (printf "%s__%s" $name (upper $entry)) (toString $ev) -}}
{{- end -}}
{{- end -}}
{{- else if $v -}}
{{- $_ := set $env $name (toString $v) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if and $env $.Values.secret.existingSecret -}}
{{- fail (printf "secret.existingSecret is set and so are secret keys under config (%s): keep the secrets in one place" (keys $env | sortAlpha | join ", ")) -}}
{{- end -}}
{{- toYaml $env -}}
{{- end -}}

{{/*
tlsSection: point <section>.tls at the mounted Secret of tls.<section>.
Called with (list $cfg "kafka" $tlsValues $mountPath).
*/}}
{{- define "kafka-qdrant.tlsSection" -}}
{{- $cfg := index . 0 -}}
{{- $section := index . 1 -}}
{{- $v := index . 2 -}}
{{- $dir := printf "%s/%s" (index . 3) $section -}}
{{- if $v.secretName -}}
{{- if not (kindIs "map" (get $cfg $section)) -}}{{- $_ := set $cfg $section dict -}}{{- end -}}
{{- $s := get $cfg $section -}}
{{- if not (kindIs "map" (get $s "tls")) -}}{{- $_ := set $s "tls" dict -}}{{- end -}}
{{- $t := get $s "tls" -}}
{{- if not (hasKey $t "enabled") -}}{{- $_ := set $t "enabled" true -}}{{- end -}}
{{- range $field, $key := dict "ca_file" $v.caKey "cert_file" $v.certKey "key_file" $v.keyKey -}}
{{- if and $key (not (get $t $field)) -}}{{- $_ := set $t $field (printf "%s/%s" $dir $key) -}}{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
config: the configuration file, as YAML: .Values.config without its secret
keys, with the TLS file paths of tls.kafka and tls.qdrant.
*/}}
{{- define "kafka-qdrant.config" -}}
{{- $cfg := deepCopy (.Values.config | default dict) -}}
{{- range $key := splitList " " (include "kafka-qdrant.secretKeys" .) -}}
{{- $parts := splitList "." $key -}}
{{- $node := $cfg -}}
{{- range $p := initial $parts -}}
{{- if kindIs "map" $node -}}{{- $node = get $node $p -}}{{- end -}}
{{- end -}}
{{- if kindIs "map" $node -}}{{- $_ := unset $node (last $parts) -}}{{- end -}}
{{- end -}}
{{- include "kafka-qdrant.tlsSection" (list $cfg "kafka" .Values.tls.kafka .Values.tls.mountPath) -}}
{{- include "kafka-qdrant.tlsSection" (list $cfg "qdrant" .Values.tls.qdrant .Values.tls.mountPath) -}}
{{- if $cfg -}}{{- toYaml $cfg -}}{{- else -}}{}{{- end -}}
{{- end -}}

{{/*
effectiveConfig: the rendered config file over the defaults of the code
(_configkeys.tpl), as JSON, merged as the replica's loader merges a file
over its defaults: maps by key, lists replaced, and kafka.topic_regex alone
dropping the default kafka.topics.
*/}}
{{- define "kafka-qdrant.effectiveConfig" -}}
{{- $user := include "kafka-qdrant.config" . | fromYaml -}}
{{- $cfg := mustMergeOverwrite (include "kafka-qdrant.configDefaults" . | fromJson) $user -}}
{{- if and (dig "kafka" "topic_regex" "" $user) (not (hasKey (dig "kafka" dict $user) "topics")) -}}
{{- $_ := unset $cfg.kafka "topics" -}}
{{- end -}}
{{- toJson $cfg -}}
{{- end -}}

{{/* configValue: the effective value of a dotted key (list cfg key), or "". */}}
{{- define "kafka-qdrant.configValue" -}}
{{- $node := index . 0 -}}
{{- $parts := splitList "." (index . 1) -}}
{{- range $p := initial $parts -}}
{{- if kindIs "map" $node -}}{{- $node = get $node $p -}}{{- end -}}
{{- end -}}
{{- if kindIs "map" $node -}}{{- get $node (last $parts) -}}{{- end -}}
{{- end -}}

{{/*
durationSeconds: a Go duration ("30s", "1m30s", "1.5h", 0) in seconds, as a
float. Called with (list value key) so that an invalid value names its key.
*/}}
{{- define "kafka-qdrant.durationSeconds" -}}
{{- $d := toString (index . 0) | trim -}}
{{- $key := index . 1 -}}
{{- if eq $d "0" -}}0{{- else -}}
{{- if not (regexMatch "^([0-9]*\\.?[0-9]+(ns|us|µs|ms|s|m|h))+$" $d) -}}
{{- fail (printf "%s: %q is not a Go duration such as \"30s\" or \"1m30s\"" $key $d) -}}
{{- end -}}
{{- $unit := dict "ns" 0.000000001 "us" 0.000001 "µs" 0.000001 "ms" 0.001 "s" 1.0 "m" 60.0 "h" 3600.0 -}}
{{- $total := 0.0 -}}
{{- range $part := regexFindAll "[0-9]*\\.?[0-9]+(ns|us|µs|ms|s|m|h)" $d -1 -}}
{{- $num := regexFind "^[0-9]*\\.?[0-9]+" $part -}}
{{- $total = addf $total (mulf (float64 $num) (get $unit (trimPrefix $num $part))) -}}
{{- end -}}
{{- $total -}}
{{- end -}}
{{- end -}}

{{/* seconds: durationSeconds rounded up to whole seconds. */}}
{{- define "kafka-qdrant.seconds" -}}
{{- include "kafka-qdrant.durationSeconds" . | float64 | ceil | int -}}
{{- end -}}

{{/*
lagThreshold: autoscaling.lagThreshold, else the lag one replica shows at
autoscaling.targetRecordsPerSecond: its committed offset trails by up to
kafka.commit_interval of records.
*/}}
{{- define "kafka-qdrant.lagThreshold" -}}
{{- if .Values.autoscaling.lagThreshold -}}
{{- .Values.autoscaling.lagThreshold | int64 -}}
{{- else -}}
{{- $interval := include "kafka-qdrant.configValue" (list (include "kafka-qdrant.effectiveConfig" . | fromJson) "kafka.commit_interval") -}}
{{- $s := include "kafka-qdrant.durationSeconds" (list $interval "config.kafka.commit_interval") | float64 -}}
{{- $t := mulf (float64 .Values.autoscaling.targetRecordsPerSecond) $s | ceil | int64 -}}
{{- if lt $t 1 -}}{{- fail "autoscaling: targetRecordsPerSecond x kafka.commit_interval is below one record: set autoscaling.lagThreshold" -}}{{- end -}}
{{- $t -}}
{{- end -}}
{{- end -}}

{{/* terminationGracePeriodSeconds: shutdown.timeout + the margin. */}}
{{- define "kafka-qdrant.terminationGracePeriodSeconds" -}}
{{- $timeout := include "kafka-qdrant.configValue" (list (include "kafka-qdrant.effectiveConfig" . | fromJson) "shutdown.timeout") -}}
{{- add (include "kafka-qdrant.seconds" (list $timeout "config.shutdown.timeout") | int) (int .Values.shutdownGraceMarginSeconds) -}}
{{- end -}}

{{/* port: the port of http.listen (default :9464). */}}
{{- define "kafka-qdrant.port" -}}
{{- $listen := include "kafka-qdrant.configValue" (list (include "kafka-qdrant.effectiveConfig" . | fromJson) "http.listen") -}}
{{- $port := regexFind "[0-9]+$" $listen -}}
{{- if not $port -}}{{- fail (printf "config.http.listen: %q has no port" $listen) -}}{{- end -}}
{{- $port -}}
{{- end -}}

{{/*
goMemLimit: the GOMEMLIMIT value, or "" for none. "auto" takes
goMemLimitPercent of resources.limits.memory (a Kubernetes quantity such as
1Gi, 1536Mi, 2G or a byte count), in bytes.
*/}}
{{- define "kafka-qdrant.goMemLimit" -}}
{{- $v := toString .Values.goMemLimit -}}
{{- if eq $v "auto" -}}
{{- $mem := toString (dig "limits" "memory" "" (.Values.resources | default dict)) -}}
{{- if $mem -}}
{{- if not (regexMatch "^[0-9]+(Ki|Mi|Gi|Ti|k|M|G|T)?$" $mem) -}}
{{- fail (printf "resources.limits.memory %q: goMemLimit auto understands integers with Ki, Mi, Gi, Ti, k, M, G or T; set goMemLimit explicitly" $mem) -}}
{{- end -}}
{{- $num := regexFind "^[0-9]+" $mem | int64 -}}
{{- $mult := get (dict "" 1 "Ki" 1024 "Mi" 1048576 "Gi" 1073741824 "Ti" 1099511627776 "k" 1000 "M" 1000000 "G" 1000000000 "T" 1000000000000) (trimPrefix (toString $num) $mem) -}}
{{- div (mul $num $mult (int .Values.goMemLimitPercent)) 100 -}}
{{- end -}}
{{- else if ne $v "off" -}}
{{- $v -}}
{{- end -}}
{{- end -}}

{{/* kafkaSASL: kafka.sasl.mechanism in KEDA's spelling, or "". */}}
{{- define "kafka-qdrant.kedaSASL" -}}
{{- $m := include "kafka-qdrant.configValue" (list (include "kafka-qdrant.effectiveConfig" . | fromJson) "kafka.sasl.mechanism") | upper -}}
{{- if $m -}}
{{- $map := dict "PLAIN" "plaintext" "SCRAM-SHA-256" "scram_sha256" "SCRAM-SHA-512" "scram_sha512" -}}
{{- if not (hasKey $map $m) -}}{{- fail (printf "config.kafka.sasl.mechanism: %q is none of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512" $m) -}}{{- end -}}
{{- get $map $m -}}
{{- end -}}
{{- end -}}
