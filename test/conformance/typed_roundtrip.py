# Read, then write back unchanged, through python3-kubernetes's typed calls:
# what an operator's script does to edit an object (read_namespaced_x, change
# it, replace_namespaced_x). Unchanged, the write must be accepted and change
# nothing. The client sends keys in its models' order and leaves out nulls and
# fields it does not know, and kube-apiserver compares decoded objects, so
# none of that is a change: the object reads back the same, and where no
# timestamp is written back its resourceVersion stays (a no-op update).
#
# Leases are left out: this client writes a MicroTime with whole seconds
# without a fraction ("...T00:11:00+00:00"), which kube-apiserver's
# RFC3339Micro parser refuses, and the sandbox's virtual-time leases are on
# whole seconds.
#
# Prints one JSON document: [{"check", "error"?, "before"?, "after"?, "rvKept": bool, "timestamps": bool}].
import json
import sys

from kubernetes import client, config

config.load_kube_config()
api = client.ApiClient()
core, apps, batch, policy = client.CoreV1Api(api), client.AppsV1Api(api), client.BatchV1Api(api), client.PolicyV1Api(api)
PER_KIND = 3

# (what, list, replace, raw path, whether the written part carries timestamps)
KINDS = [
    ("Node", core.list_node, core.replace_node, "/api/v1/nodes/{n}", False),
    ("Namespace", core.list_namespace, core.replace_namespace, "/api/v1/namespaces/{n}", False),
    ("Pod", core.list_pod_for_all_namespaces, core.replace_namespaced_pod, "/api/v1/namespaces/{ns}/pods/{n}", False),
    ("Service", core.list_service_for_all_namespaces, core.replace_namespaced_service, "/api/v1/namespaces/{ns}/services/{n}", False),
    ("ConfigMap", core.list_config_map_for_all_namespaces, core.replace_namespaced_config_map, "/api/v1/namespaces/{ns}/configmaps/{n}", False),
    ("Secret", core.list_secret_for_all_namespaces, core.replace_namespaced_secret, "/api/v1/namespaces/{ns}/secrets/{n}", False),
    ("ServiceAccount", core.list_service_account_for_all_namespaces, core.replace_namespaced_service_account, "/api/v1/namespaces/{ns}/serviceaccounts/{n}", False),
    ("LimitRange", core.list_limit_range_for_all_namespaces, core.replace_namespaced_limit_range, "/api/v1/namespaces/{ns}/limitranges/{n}", False),
    ("ResourceQuota", core.list_resource_quota_for_all_namespaces, core.replace_namespaced_resource_quota, "/api/v1/namespaces/{ns}/resourcequotas/{n}", False),
    ("Event", core.list_event_for_all_namespaces, core.replace_namespaced_event, "/api/v1/namespaces/{ns}/events/{n}", True),
    ("Deployment", apps.list_deployment_for_all_namespaces, apps.replace_namespaced_deployment, "/apis/apps/v1/namespaces/{ns}/deployments/{n}", False),
    ("ReplicaSet", apps.list_replica_set_for_all_namespaces, apps.replace_namespaced_replica_set, "/apis/apps/v1/namespaces/{ns}/replicasets/{n}", False),
    ("StatefulSet", apps.list_stateful_set_for_all_namespaces, apps.replace_namespaced_stateful_set, "/apis/apps/v1/namespaces/{ns}/statefulsets/{n}", False),
    ("DaemonSet", apps.list_daemon_set_for_all_namespaces, apps.replace_namespaced_daemon_set, "/apis/apps/v1/namespaces/{ns}/daemonsets/{n}", False),
    ("ControllerRevision", apps.list_controller_revision_for_all_namespaces, apps.replace_namespaced_controller_revision, "/apis/apps/v1/namespaces/{ns}/controllerrevisions/{n}", False),
    ("Job", batch.list_job_for_all_namespaces, batch.replace_namespaced_job, "/apis/batch/v1/namespaces/{ns}/jobs/{n}", False),
    ("PodDisruptionBudget", policy.list_pod_disruption_budget_for_all_namespaces, policy.replace_namespaced_pod_disruption_budget, "/apis/policy/v1/namespaces/{ns}/poddisruptionbudgets/{n}", False),
]


def raw(path):
    r = api.call_api(path, "GET", auth_settings=["BearerToken"], _preload_content=False, _return_http_data_only=True)
    return json.loads(r.data)


out = []
for what, list_fn, replace_fn, path, timestamps in KINDS:
    for item in list_fn().items[:PER_KIND]:
        md = item.metadata
        url = path.format(ns=md.namespace, n=md.name)
        check = {"check": f"{what} {md.namespace + '/' if md.namespace else ''}{md.name}", "timestamps": timestamps}
        before = raw(url)
        try:
            if md.namespace:
                replace_fn(md.name, md.namespace, item)
            else:
                replace_fn(md.name, item)
        except client.ApiException as e:
            check["error"] = f"{e.status}: {json.loads(e.body).get('message') if e.body else e.reason}"
            out.append(check)
            continue
        after = raw(url)
        check["rvKept"] = before["metadata"]["resourceVersion"] == after["metadata"]["resourceVersion"]
        check["before"], check["after"] = before, after
        out.append(check)

json.dump(out, sys.stdout)
