{{/*
Expand the name of the chart.
*/}}
{{- define "customer360.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
A default fully qualified app name, truncated at 63 characters (some Kubernetes name fields are
limited to that). If the release name contains the chart name it is used as the full name.
*/}}
{{- define "customer360.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Name of the management Service (health and metrics), within 63 characters.
*/}}
{{- define "customer360.managementName" -}}
{{- include "customer360.fullname" . | trunc 52 | trimSuffix "-" }}-management
{{- end }}

{{/*
Chart name and version, as used by the chart label.
*/}}
{{- define "customer360.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Common labels.
*/}}
{{- define "customer360.labels" -}}
helm.sh/chart: {{ include "customer360.chart" . }}
{{ include "customer360.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
Selector labels.
*/}}
{{- define "customer360.selectorLabels" -}}
app.kubernetes.io/name: {{ include "customer360.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
The service account to use.
*/}}
{{- define "customer360.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "customer360.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The container image: repository@digest when a digest is given, else repository:tag (tag defaults to appVersion).
*/}}
{{- define "customer360.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/*
The most replicas that can run at once: the HPA's maximum when autoscaling, else replicaCount.
*/}}
{{- define "customer360.maxReplicas" -}}
{{- if .Values.autoscaling.enabled }}
{{- .Values.autoscaling.maxReplicas | int }}
{{- else }}
{{- .Values.replicaCount | int }}
{{- end }}
{{- end }}

{{/*
The fewest replicas that run when nothing is being rolled: the HPA's minimum, else replicaCount.
*/}}
{{- define "customer360.minReplicas" -}}
{{- if .Values.autoscaling.enabled }}
{{- .Values.autoscaling.minReplicas | int }}
{{- else }}
{{- .Values.replicaCount | int }}
{{- end }}
{{- end }}

{{/*
One setting as the string an environment variable holds. Helm reads YAML numbers as float64,
which would print large ones as 8.64e+07: whole numbers are printed as integers.
*/}}
{{- define "customer360.settingValue" -}}
{{- if kindIs "float64" . }}
{{- . | int64 | toString }}
{{- else }}
{{- . | toString }}
{{- end }}
{{- end }}

{{/*
terminationGracePeriodSeconds: the preStop sleep, then SHUTDOWN_DELAY_MS + SHUTDOWN_GRACE_MS (rounded up to whole
seconds; the service's default when unset) for in-flight requests, then a margin for closing
connections and Redis. Kubernetes sends SIGKILL only after all of it.
*/}}
{{- define "customer360.terminationGracePeriodSeconds" -}}
{{- $graceMs := include "customer360.settingValue" (.Values.config.SHUTDOWN_GRACE_MS | default 20000) | int }}
{{- $delayMs := include "customer360.settingValue" (.Values.config.SHUTDOWN_DELAY_MS | default 0) | int }}
{{- add .Values.shutdown.preStopSleepSeconds (div (add $graceMs $delayMs 999) 1000) .Values.shutdown.extraGraceSeconds }}
{{- end }}

{{/*
Settings given as files: setting name → key, for the keys that are set.
*/}}
{{- define "customer360.secretFiles" -}}
{{- range $name, $key := .Values.secrets.files }}
{{- if $key }}
{{ $name }}: {{ $key | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Refuses values that would deploy something broken, with a message saying what to change.
*/}}
{{- define "customer360.validate" -}}
{{- if eq (int .Values.ports.http) (int .Values.ports.management) }}
{{- fail "ports.management must differ from ports.http: health and metrics get their own port, kept off the ingress" }}
{{- end }}
{{- if and (gt (include "customer360.maxReplicas" . | int) 1) (not .Values.secrets.files.REDIS_URL) }}
{{- fail "more than one replica needs Redis: set secrets.files.REDIS_URL to the key holding the redis:// URL" }}
{{- end }}
{{- if and (not .Values.secrets.csi.enabled) (not .Values.secrets.existingSecret) (include "customer360.secretFiles" . | trim) }}
{{- fail "secrets.existingSecret must name the Secret holding the keys listed in secrets.files" }}
{{- end }}
{{- if and .Values.autoscaling.enabled (lt (int .Values.autoscaling.maxReplicas) (int .Values.autoscaling.minReplicas)) }}
{{- fail "autoscaling.maxReplicas must be at least autoscaling.minReplicas" }}
{{- end }}
{{- end }}
