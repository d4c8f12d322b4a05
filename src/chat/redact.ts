// Every reply the bot posts passes through the process's redactor
// (src/common/redact.ts): chat rooms are read by many people, logged by the
// platform and pasted into tickets, and the configured tokens and the values
// of Secrets kubemend has seen are masked there as everywhere else.
export { Redactor, redact, redactor } from '../common/index.ts';
