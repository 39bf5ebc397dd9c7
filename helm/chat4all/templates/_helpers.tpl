{{/* Chart name, truncated to a DNS label. */}}
{{- define "chat4all.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name of the release's objects. */}}
{{- define "chat4all.fullname" -}}
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

{{/* The headless Service Hazelcast discovers the members by (a DNS-1035 label). */}}
{{- define "chat4all.hazelcastService" -}}
{{- printf "%s-hazelcast" (include "chat4all.fullname" . | trunc 53 | trimSuffix "-") }}
{{- end }}

{{- define "chat4all.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "chat4all.selectorLabels" -}}
app.kubernetes.io/name: {{ include "chat4all.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "chat4all.labels" -}}
helm.sh/chart: {{ include "chat4all.chart" . }}
{{ include "chat4all.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: chat4all
{{- end }}

{{- define "chat4all.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "chat4all.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "chat4all.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The Secret the node's secrets come from: the chart's own or secrets.existingSecret. */}}
{{- define "chat4all.secretName" -}}
{{- default (include "chat4all.fullname" .) .Values.secrets.existingSecret }}
{{- end }}

{{/*
The longest shutdown the node may take after SIGTERM: the preStop sleep, the HTTP and the gRPC edge
each draining for node.shutdown_grace_seconds, and 15 s for the consumers, the backend clients and
leaving the Hazelcast cluster.
*/}}
{{- define "chat4all.drainSeconds" -}}
{{- add (int .Values.preStopSleepSeconds) (mul 2 (int .Values.node.shutdownGraceSeconds)) 15 }}
{{- end }}

{{/*
The node configuration file: the backends from `backends`, overridden by `config`.
*/}}
{{- define "chat4all.configFile" -}}
{{- $b := .Values.backends }}
{{- $chart := dict
  "backends" (dict "mode" "external")
  "kafka" (dict
    "bootstrap_servers" $b.kafka.bootstrapServers
    "topic_prefix" $b.kafka.topicPrefix
    "partitions" $b.kafka.partitions
    "replication_factor" $b.kafka.replicationFactor)
  "postgres" (dict
    "host" $b.postgres.host
    "port" $b.postgres.port
    "database" $b.postgres.database
    "user" $b.postgres.user
    "schema" $b.postgres.schema
    "pool_size" $b.postgres.poolSize)
  "mongo" (dict
    "connection_string" $b.mongo.connectionString
    "database" $b.mongo.database)
  "redis" (dict
    "connection_string" $b.redis.connectionString
    "key_prefix" $b.redis.keyPrefix
    "pool_size" $b.redis.poolSize)
  "s3" (dict
    "endpoint" $b.s3.endpoint
    "public_endpoint" $b.s3.publicEndpoint
    "region" $b.s3.region
    "bucket" $b.s3.bucket
    "path_style" $b.s3.pathStyle
    "encryption" $b.s3.encryption
    "kms_key_id" $b.s3.kmsKeyId)
  "http" (dict "frontend_enabled" .Values.node.frontendEnabled)
}}
{{- toYaml (mustMergeOverwrite $chart (deepCopy (default (dict) .Values.config))) }}
{{- end }}

{{/* Environment variable name of a channel setting: CHAT4ALL_CHANNELS_<CHANNEL>_<SETTING>. */}}
{{- define "chat4all.channelEnv" -}}
{{- printf "CHAT4ALL_CHANNELS_%s_%s" (.channel | upper) (.setting | upper) }}
{{- end }}
