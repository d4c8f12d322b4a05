// Chat RBAC: casbin model (model.conf), policy files (CSV or YAML) and the Authorizer.
export { Authorizer, wildcardMatch, type AuthzRequest, type Decision, type Dimension } from './authorizer.ts';
export { CHAT_ACTIONS, GROUP_PREFIX, asGroup, roomName, loadPolicyFile, parseCsvPolicy, parseYamlPolicy, type ChatAction, type GroupRule, type Policy, type PolicyRule } from './policy.ts';
