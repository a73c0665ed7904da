{{/* Names and labels shared by every template. */}}

{{- define "cto.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* <release>-chat-tenant-operator, or the release name alone when it already says it. */}}
{{- define "cto.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "cto.selectorLabels" -}}
app.kubernetes.io/name: {{ include "cto.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "cto.labels" -}}
{{ include "cto.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: chat-tenant-operator
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* Registry of the operator image: the air-gapped mirror wins over the default registry. */}}
{{- define "cto.imageRegistry" -}}
{{- .Values.global.imageRegistry | default .Values.image.registry -}}
{{- end -}}

{{- define "cto.imageTag" -}}
{{- .Values.image.tag | default .Chart.AppVersion -}}
{{- end -}}

{{- define "cto.image" -}}
{{- printf "%s/%s:%s" (include "cto.imageRegistry" .) .Values.image.repository (include "cto.imageTag" .) -}}
{{- end -}}

{{/* Fixed by the operator (src/cli run): one leader per cluster, whatever the release is called. */}}
{{- define "cto.leaderLease" -}}chat-tenant-operator-leader{{- end -}}

{{/*
The settings file (OperatorSettings, src/api/settings.ts). Only keys the operator knows: it parses the file
strictly and refuses to start on an unknown key.
*/}}
{{- define "cto.settings" -}}
{{- $s := .Values.settings -}}
{{- $settings := dict
  "encryptedStorageClasses" $s.encryptedStorageClasses
  "encryptedStorageClassAnnotation" $s.encryptedStorageClassAnnotation
  "operatorNamespace" .Release.Namespace
  "cloudNativePGNamespace" $s.cloudNativePGNamespace
  "kubernetesApiCIDRs" $s.kubernetesApiCIDRs
  "kubernetesApiPorts" $s.kubernetesApiPorts
  "clusterDomain" $s.clusterDomain
  "operatorImage" (dict "registry" (include "cto.imageRegistry" .) "repository" .Values.image.repository "tag" (include "cto.imageTag" .))
  "prometheusOperator" $s.prometheusOperator
  "ejabberdFlavour" $s.ejabberdFlavour
-}}
{{- /* The operator applies it to every default image, its own (backup runner) included. */ -}}
{{- with .Values.global.imageRegistry -}}
{{- $_ := set $settings "imageRegistry" . -}}
{{- end -}}
{{- toYaml $settings -}}
{{- end -}}
