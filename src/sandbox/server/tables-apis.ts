// Printers for CronJobs, PriorityClasses and the RBAC types, as
// pkg/printers/internalversion/printers.go (1.32) prints them. Roles and
// ClusterRoles print with the default Name / Created At columns.
import type { K8sObject } from '../types.ts';
import { AGE, NAME, age, col, since, type Printer } from './tables-format.ts';
import { containerCells, formatSelector } from './tables-workloads.ts';

const cronjobs: Printer = {
  columns: [
    NAME,
    col('Schedule', 'string', 'The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.'),
    col('Timezone', 'string', 'The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones. If not specified, this will default to the time zone of the kube-controller-manager process. The set of valid time zone names and the time zone offset is loaded from the system-wide time zone database by the API server during CronJob validation and the controller manager during execution. If no system-wide time zone database can be found a bundled version of the database is used instead. If the time zone name becomes invalid during the lifetime of a CronJob or due to a change in host configuration, the controller will stop creating new new Jobs and will create a system event with the reason UnknownTimeZone. More information can be found in https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#time-zones'),
    col('Suspend', 'boolean', 'This flag tells the controller to suspend subsequent executions, it does not apply to already started executions.  Defaults to false.'),
    col('Active', 'integer', 'A list of pointers to currently running jobs.'),
    col('Last Schedule', 'string', 'Information when was the last time the job was successfully scheduled.'),
    AGE,
    col('Containers', 'string', 'Names of each container in the template.', 1),
    col('Images', 'string', 'Images referenced by each container in the template.', 1),
    col('Selector', 'string', 'A label query over pods that should match the pod count. Normally, the system sets this field for you. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors', 1),
  ],
  cells(o, now) {
    const s = o.spec ?? {};
    const suspend = s.suspend === undefined || s.suspend === null ? '<unset>' : s.suspend ? 'True' : 'False';
    const last = o.status?.lastScheduleTime ? since(o.status.lastScheduleTime, now) : '<none>';
    return [
      o.metadata.name, s.schedule ?? '', s.timeZone ?? '<none>', suspend, (o.status?.active ?? []).length, last, age(o, now),
      ...containerCells(s.jobTemplate?.spec?.template?.spec?.containers), formatSelector(s.jobTemplate?.spec?.selector),
    ];
  },
};

const priorityclasses: Printer = {
  columns: [
    NAME,
    col('Value', 'integer', 'value represents the integer value of this priority class. This is the actual priority that pods receive when they have the name of this class in their pod spec.'),
    col('Global-Default', 'boolean', 'globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class. Only one PriorityClass can be marked as `globalDefault`. However, if more than one PriorityClasses exists with their `globalDefault` field set to true, the smallest value of such global default PriorityClasses will be used as the default priority.'),
    AGE,
    col('PreemptionPolicy', 'string', 'preemptionPolicy is the Policy for preempting pods with lower priority. One of Never, PreemptLowerPriority. Defaults to PreemptLowerPriority if unset.'),
  ],
  cells: (o, now) => [o.metadata.name, o.value ?? 0, Boolean(o.globalDefault), age(o, now), o.preemptionPolicy ?? ''],
};

/** rbac.SubjectsStrings: users, groups and `namespace/name` service accounts. */
function subjects(o: K8sObject): [string, string, string] {
  const of = (kind: string) => ((o.subjects ?? []) as { kind: string; name: string; namespace?: string }[]).filter((s) => s.kind === kind);
  return [
    of('User').map((s) => s.name).join(', '),
    of('Group').map((s) => s.name).join(', '),
    of('ServiceAccount').map((s) => `${s.namespace ?? ''}/${s.name}`).join(', '),
  ];
}

function bindingPrinter(roleRefDoc: string): Printer {
  return {
    columns: [
      NAME, col('Role', 'string', roleRefDoc), AGE,
      col('Users', 'string', 'Users in the roleBinding', 1),
      col('Groups', 'string', 'Groups in the roleBinding', 1),
      col('ServiceAccounts', 'string', 'ServiceAccounts in the roleBinding', 1),
    ],
    cells: (o, now) => [o.metadata.name, `${o.roleRef?.kind ?? ''}/${o.roleRef?.name ?? ''}`, age(o, now), ...subjects(o)],
  };
}

export const API_PRINTERS: Record<string, Printer> = {
  'batch/cronjobs': cronjobs,
  'scheduling.k8s.io/priorityclasses': priorityclasses,
  'rbac.authorization.k8s.io/rolebindings': bindingPrinter('RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error. This field is immutable.'),
  'rbac.authorization.k8s.io/clusterrolebindings': bindingPrinter('RoleRef can only reference a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error. This field is immutable.'),
};
