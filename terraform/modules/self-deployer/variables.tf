variable "name" {
  description = "Name of the deployer function (and prefix of its resources)."
  type        = string
  default     = "self-deployer"
}

variable "package_zip" {
  description = "The bootstrap.zip that `make build` produces (cargo lambda build --release --arm64 --output-format zip)."
  type        = string
}

variable "targets" {
  description = "What to deploy: each ECR repository and the functions that run its images (rendered into DEPLOYER_TARGETS). Optional fields as in the README (tags, allow_untagged, alias, smoke, keep_versions, image_checks, rollout, reconcile_mode, after, assume_role_arn, github); a target's image_checks replaces var.image_checks, its rollout replaces var.rollout."
  type = list(object({
    repository     = string
    functions      = list(string)
    tags           = optional(list(string))
    allow_untagged = optional(bool)
    alias          = optional(string)
    smoke = optional(object({
      payload       = optional(any)
      expect_status = optional(list(number))
    }))
    keep_versions = optional(number)
    # As in DEPLOYER_TARGETS: max_findings, require_scan, scan_wait_secs, require_signature.
    image_checks = optional(any)
    rollout = optional(object({
      steps                   = optional(list(number))
      interval_secs           = optional(number)
      check_secs              = optional(number)
      alarms                  = optional(list(string))
      max_error_rate          = optional(number)
      min_invocations         = optional(number)
      max_wait_secs           = optional(number)
      on_inconclusive         = optional(string)
      synthetic               = optional(any) # { max_per_check = 1..100, payload = the smoke payload if unset }
      max_error_rate_increase = optional(number)
      max_p99_ms              = optional(number)
      max_latency_increase    = optional(number)
      report_only             = optional(bool)
    }))
    reconcile_mode = optional(string)
    # Stages (docs/stages.md): the function this target follows, and a role in another account.
    after = optional(object({
      function  = string
      bake_secs = number
      manual    = optional(bool)
    }))
    assume_role_arn = optional(string)
    # GitHub deployments (docs/reference.md): the repository, and the environment (default: the function).
    github = optional(object({
      repository  = string
      environment = optional(string)
    }))
  }))

  validation {
    condition     = length(var.targets) > 0 && alltrue([for t in var.targets : length(t.functions) > 0])
    error_message = "Configure at least one target, each with at least one function."
  }

  validation {
    condition     = alltrue([for t in var.targets : t.assume_role_arn == null || can(regex("^arn:[a-z-]+:iam::[0-9]{12}:role/.+$", t.assume_role_arn))])
    error_message = "A target's assume_role_arn must be an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)."
  }
}

variable "rollout" {
  description = "DEPLOYER_ROLLOUT: the rollout of targets that set none, e.g. { steps = [10, 50], interval_secs = 300, alarms = [\"api-5xx\"], max_error_rate = 0.05 } (see README, Progressive delivery). null: all at once. Every alarm named here or in a target's rollout going to ALARM invokes the deployer at once."
  type = object({
    steps                   = optional(list(number))
    interval_secs           = optional(number)
    check_secs              = optional(number)
    alarms                  = optional(list(string))
    max_error_rate          = optional(number)
    min_invocations         = optional(number)
    max_wait_secs           = optional(number)
    on_inconclusive         = optional(string)
    synthetic               = optional(any) # { max_per_check = 1..100, payload = the smoke payload if unset }
    max_error_rate_increase = optional(number)
    max_p99_ms              = optional(number)
    max_latency_increase    = optional(number)
    report_only             = optional(bool)
  })
  default = null
}

variable "alias_name" {
  description = "DEPLOYER_ALIAS: the alias moved for targets that do not name their own."
  type        = string
  default     = "live"
}

variable "update_timeout_seconds" {
  description = "DEPLOYER_UPDATE_TIMEOUT_SECS. At most 840 so that a timed-out update is still reported within the 900 s Lambda timeout."
  type        = number
  default     = 600

  validation {
    condition     = var.update_timeout_seconds >= 1 && var.update_timeout_seconds <= 840
    error_message = "update_timeout_seconds must be between 1 and 840."
  }
}

variable "keep_versions" {
  description = "DEPLOYER_KEEP_VERSIONS: versions to keep per function (0 = never prune; otherwise at least 2)."
  type        = number
  default     = 0

  validation {
    condition     = var.keep_versions == 0 || var.keep_versions >= 2
    error_message = "keep_versions must be 0 or at least 2."
  }
}

variable "notification_email" {
  description = "Optional e-mail address subscribed to the notification topic."
  type        = string
  default     = ""
}

variable "log_retention_days" {
  description = "Retention of the deployer's log group."
  type        = number
  default     = 365
}

variable "memory_size" {
  description = "The deployer waits on AWS APIs; 128 MB is enough (see BENCHMARKS.md for the measured peak)."
  type        = number
  default     = 128
}

variable "image_checks" {
  description = "DEPLOYER_IMAGE_CHECKS: image checks for targets that set none (null = none): the most findings per severity, whether a usable scan is required, how long to wait for one, and a required signing profile."
  type = object({
    max_findings   = optional(map(number))
    require_scan   = optional(bool)
    scan_wait_secs = optional(number)
    require_signature = optional(object({
      signing_profile_arn = string
    }))
  })
  default = null

  validation {
    condition     = var.image_checks == null || try(var.image_checks.scan_wait_secs, null) == null || (try(var.image_checks.scan_wait_secs, 0) >= 0 && try(var.image_checks.scan_wait_secs, 0) <= 900)
    error_message = "image_checks.scan_wait_secs must be between 0 and 900."
  }
}

variable "event_bus_name" {
  description = "DEPLOYER_EVENT_BUS: the EventBridge bus in this account and region that deployment events go to (\"default\" is the account's default bus). The deployer may put events on this bus only."
  type        = string
  default     = "default"

  validation {
    condition     = can(regex("^[/.\\-_A-Za-z0-9]{1,256}$", var.event_bus_name))
    error_message = "event_bus_name must be an event bus name: 1 to 256 of A-Z a-z 0-9 . - _ /."
  }
}

variable "metrics_namespace" {
  description = "DEPLOYER_METRICS_NAMESPACE, where the deployer's EMF metrics go; the alarms and the dashboard read it."
  type        = string
  default     = "SelfDeployer"
}

variable "reserved_concurrency" {
  description = "Reserved concurrency of the deployer: how many of its runs go at once. An image for more functions than inline_max is dispatched (one run per function up to 20, beyond that 8 runs each deploying a batch at once), and this many runs go at a time (the rest wait in Lambda's queue): 10 holds the dispatching run, the 8 batches and a summary check. Concurrent runs on one function are safe: every change is guarded by RevisionId and CodeSha256."
  type        = number
  default     = 10

  validation {
    condition     = var.reserved_concurrency >= 1
    error_message = "reserved_concurrency must be at least 1."
  }
}

variable "inline_max" {
  description = "DEPLOYER_INLINE_MAX: the most functions one run deploys itself; an image for more is dispatched, one asynchronous invocation of the deployer per function."
  type        = number
  default     = 8

  validation {
    condition     = var.inline_max >= 1
    error_message = "inline_max must be at least 1."
  }
}

variable "control_plane_rps" {
  description = "DEPLOYER_CONTROL_PLANE_RPS: Lambda control-plane calls per second the deployer makes, split across its concurrent runs (Lambda allows 15 per account and Region for every caller)."
  type        = number
  default     = 10

  validation {
    condition     = var.control_plane_rps >= 1 && var.control_plane_rps <= 15
    error_message = "control_plane_rps must be between 1 and 15."
  }
}

variable "fleet_report_seconds" {
  description = "DEPLOYER_FLEET_REPORT_SECS: how long a fleet's summary waits for every function's outcome before it is sent naming the stragglers."
  type        = number
  default     = 900

  validation {
    condition     = var.fleet_report_seconds >= 60 && var.fleet_report_seconds <= 86400
    error_message = "fleet_report_seconds must be between 60 and 86400."
  }
}

variable "notify_fleet" {
  description = "DEPLOYER_NOTIFY_FLEET: above inline_max, one summary per push or fleet rollback (failures still at once), or one message per function."
  type        = string
  default     = "summary"

  validation {
    condition     = contains(["summary", "each"], var.notify_fleet)
    error_message = "notify_fleet must be summary or each."
  }
}

variable "reconcile_schedule" {
  description = "When the reconcile sweep runs (an EventBridge schedule expression): it deploys pushes whose event was missed and reports aliases moved by hand. Empty: no sweep."
  type        = string
  default     = "rate(15 minutes)"
}

variable "reconcile_mode" {
  description = "DEPLOYER_RECONCILE: what a sweep does with a missed push for targets without their own reconcile_mode: deploy, or report (never deploys)."
  type        = string
  default     = "deploy"

  validation {
    condition     = contains(["deploy", "report"], var.reconcile_mode)
    error_message = "reconcile_mode must be deploy or report."
  }
}

variable "github_token_secret_arn" {
  description = "DEPLOYER_GITHUB_TOKEN_SECRET_ARN: the Secrets Manager secret holding a GitHub token, or a GitHub App's key, for targets with github (docs/reference.md, GitHub deployments). The deployer may read this secret and no other. null: no GitHub deployments, no grant."
  type        = string
  default     = null

  validation {
    condition     = var.github_token_secret_arn == null || can(regex("^arn:[a-z-]+:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+$", var.github_token_secret_arn))
    error_message = "github_token_secret_arn must be a Secrets Manager secret ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME)."
  }
}

variable "github_api_url" {
  description = "DEPLOYER_GITHUB_API_URL: GitHub's API (GitHub Enterprise Server's https://HOST/api/v3)."
  type        = string
  default     = "https://api.github.com"
}
