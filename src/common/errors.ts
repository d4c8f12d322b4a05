// Every user-facing error carries a stable code documented in docs/errors.md,
// with the fix. Whether an operation is retried is decided from the error's
// type (`retryable`), never from its message.

export interface ErrorInfo {
  /** Stable identifier, e.g. KM-SANDBOX-001. Never reuse or renumber. */
  code: string;
  /** What the user can do about it. */
  fix: string;
  retryable?: boolean;
}

export class KubemendError extends Error {
  readonly code: string;
  readonly fix: string;
  readonly retryable: boolean;

  constructor(info: ErrorInfo, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KubemendError';
    this.code = info.code;
    this.fix = info.fix;
    this.retryable = info.retryable ?? false;
  }

  /** One-line rendering for terminals: "KM-X-001 message (fix: …)". */
  render(): string {
    return `${this.code} ${this.message}\n  fix: ${this.fix}`;
  }
}

/** The catalogue; docs/errors.md mirrors it (a test keeps them in step). */
export const Errors = {
  SCENARIO_NOT_FOUND: { code: 'KM-SANDBOX-001', fix: 'Pass a scenario name from `scenarios/` (see `kubemend sandbox --help`) or a path to a scenario YAML file.' },
  SCENARIO_INVALID: { code: 'KM-SANDBOX-002', fix: 'Correct the field named in the message; the format is documented in docs/scenarios.md.' },
  PORT_IN_USE: { code: 'KM-SANDBOX-003', fix: 'Choose another --port, or --port 0 to let the system pick a free one.' },
  BAD_FLAG: { code: 'KM-CLI-001', fix: 'Run the command with --help to see the accepted values.' },
  KUBECONFIG_WRITE: { code: 'KM-SANDBOX-004', fix: 'Pass a writable path to --kubeconfig-out.' },
  SCENARIO_FAILED: { code: 'KM-SANDBOX-005', fix: 'A scenario milestone was not reached in time; run it with --speed 1 and watch `kubectl get events -A -w` to see where it stalls.' },
  CONFIG_INVALID: { code: 'KM-CONFIG-001', fix: 'Correct each field named in the message (file:line path); the formats are documented in docs/.' },
  SILENCE_INVALID: { code: 'KM-SILENCE-001', fix: 'Write each matcher as name=value, name!=value, name=~regex or name!~regex (regexes are anchored), give an end time or duration after the start, and say who creates it and why.' },
} as const satisfies Record<string, ErrorInfo>;
