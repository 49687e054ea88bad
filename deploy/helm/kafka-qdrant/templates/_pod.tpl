{{/*
The parts of a kafka-qdrant container shared by the Deployment and the
`helm test` pod: environment, config and TLS mounts.
*/}}

{{/* env: GOMEMLIMIT and extraEnv, then the KQ__ Secret and extraEnvFrom. */}}
{{- define "kafka-qdrant.env" -}}
{{- $secretName := include "kafka-qdrant.secretName" . -}}
{{- $goMemLimit := include "kafka-qdrant.goMemLimit" . -}}
{{- if or $goMemLimit .Values.extraEnv }}
env:
  {{- if $goMemLimit }}
  - name: GOMEMLIMIT
    value: {{ $goMemLimit | quote }}
  {{- end }}
  {{- with .Values.extraEnv }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end }}
{{- if or $secretName .Values.extraEnvFrom }}
envFrom:
  {{- if $secretName }}
  # KQ__* variables: the secret configuration keys.
  - secretRef:
      name: {{ $secretName }}
  {{- end }}
  {{- with .Values.extraEnvFrom }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end }}
{{- end -}}

{{- define "kafka-qdrant.volumeMounts" -}}
- name: config
  mountPath: {{ include "kafka-qdrant.configDir" . }}
  readOnly: true
- name: tmp
  mountPath: /tmp
{{- range $section := list "kafka" "qdrant" }}
{{- if (get $.Values.tls $section).secretName }}
- name: tls-{{ $section }}
  mountPath: {{ $.Values.tls.mountPath }}/{{ $section }}
  readOnly: true
{{- end }}
{{- end }}
{{- with .Values.extraVolumeMounts }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "kafka-qdrant.volumes" -}}
- name: config
  configMap:
    name: {{ include "kafka-qdrant.fullname" . }}-config
- name: tmp
  emptyDir:
    sizeLimit: 1Gi
{{- range $section := list "kafka" "qdrant" }}
{{- with (get $.Values.tls $section).secretName }}
- name: tls-{{ $section }}
  secret:
    secretName: {{ . }}
{{- end }}
{{- end }}
{{- with .Values.extraVolumes }}
{{ toYaml . }}
{{- end }}
{{- end -}}
