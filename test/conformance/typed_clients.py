# Reads everything the sandbox serves through Debian's python3-kubernetes with
# its typed calls, as an operator's script would: every list, a read of each
# object, the status and scale subresources, discovery and version. The typed
# models refuse a missing required field (ValueError "Invalid value for
# `boot_id`, must not be `None`") and an unparsable timestamp, so any object
# the sandbox writes unlike kube-apiserver shows up here as a decode error.
#
# Then a sweep driven by discovery: every listable resource the server
# announces is listed and read with the model the client has for its kind,
# so kinds added later are covered without editing this file.
#
# One difference is expected, because kube-apiserver has it too: Events
# recorded through core/v1 (kube-controller-manager's and the kubelet's
# recorders) have no eventTime, events.k8s.io/v1 serves them with
# `eventTime: null`, and this client's EventsV1Event refuses that
# (kubernetes-client/python#669). Those reads must fail exactly so; they are
# reported as expectedError.
#
# Prints one JSON document: {"checks": [{"check", "count"?, "error"?, "expectedError"?}],
# "untyped": ["group/version/resource", ...]} (served kinds this client has
# no model for).
import json
import sys
import traceback

from kubernetes import client, config

config.load_kube_config()
api = client.ApiClient()
core = client.CoreV1Api(api)
apps = client.AppsV1Api(api)
batch = client.BatchV1Api(api)
policy = client.PolicyV1Api(api)
coordination = client.CoordinationV1Api(api)
events = client.EventsV1Api(api)

checks = []
untyped = []
# Each object's reads are many calls; events are the bulk and all alike.
MAX_READS = 40


def record(name, fn, expect=None):
    """Runs one typed call; `expect` is the decode error kube-apiserver's own answer causes too."""
    try:
        out = fn()
    except Exception as e:  # noqa: BLE001 - every failure is a finding
        message = f"{type(e).__name__}: {e}"
        if expect and expect in message:
            checks.append({"check": name, "expectedError": message})
            return None
        last = traceback.extract_tb(e.__traceback__)[-1]
        checks.append({"check": name, "error": f"{message} (at {last.name})"})
        return None
    if expect:
        checks.append({"check": name, "error": f"decoded, but kube-apiserver's answer fails with {expect}"})
        return out
    items = getattr(out, "items", None)
    checks.append({"check": name, "count": len(items) if isinstance(items, list) else 1})
    return out


def raw(path, response_type):
    return api.call_api(path, "GET", response_type=response_type, auth_settings=["BearerToken"],
                        _return_http_data_only=True)


def each(listing, reads, limit=MAX_READS):
    """A typed list, then the typed reads of its first `limit` objects."""
    name, fn = listing
    out = record(name, fn)
    for item in (out.items if out is not None else [])[:limit]:
        md = item.metadata
        for rname, rfn in reads:
            who = f"{md.namespace}/{md.name}" if md.namespace else md.name
            record(f"{rname} {who}", lambda: rfn(md.name, md.namespace) if md.namespace else rfn(md.name))


# --- typed calls, kind by kind -----------------------------------------------
record("VersionApi.get_code", lambda: client.VersionApi(api).get_code())
record("CoreV1Api.get_api_resources", lambda: core.get_api_resources())
record("ApisApi.get_api_versions", lambda: client.ApisApi(api).get_api_versions())

each(("CoreV1Api.list_namespace", core.list_namespace),
     [("read_namespace", core.read_namespace), ("read_namespace_status", core.read_namespace_status)])
each(("CoreV1Api.list_node", core.list_node),
     [("read_node", core.read_node), ("read_node_status", core.read_node_status)])
each(("CoreV1Api.list_pod_for_all_namespaces", core.list_pod_for_all_namespaces),
     [("read_namespaced_pod", core.read_namespaced_pod),
      ("read_namespaced_pod_status", core.read_namespaced_pod_status)], limit=1000)
each(("CoreV1Api.list_event_for_all_namespaces", core.list_event_for_all_namespaces),
     [("read_namespaced_event", core.read_namespaced_event)])
each(("CoreV1Api.list_service_for_all_namespaces", core.list_service_for_all_namespaces),
     [("read_namespaced_service", core.read_namespaced_service)])
each(("CoreV1Api.list_config_map_for_all_namespaces", core.list_config_map_for_all_namespaces),
     [("read_namespaced_config_map", core.read_namespaced_config_map)])
each(("CoreV1Api.list_secret_for_all_namespaces", core.list_secret_for_all_namespaces),
     [("read_namespaced_secret", core.read_namespaced_secret)])
each(("CoreV1Api.list_limit_range_for_all_namespaces", core.list_limit_range_for_all_namespaces),
     [("read_namespaced_limit_range", core.read_namespaced_limit_range)])
each(("CoreV1Api.list_resource_quota_for_all_namespaces", core.list_resource_quota_for_all_namespaces),
     [("read_namespaced_resource_quota", core.read_namespaced_resource_quota)])
each(("CoreV1Api.list_service_account_for_all_namespaces", core.list_service_account_for_all_namespaces),
     [("read_namespaced_service_account", core.read_namespaced_service_account)])

each(("AppsV1Api.list_deployment_for_all_namespaces", apps.list_deployment_for_all_namespaces),
     [("read_namespaced_deployment", apps.read_namespaced_deployment),
      ("read_namespaced_deployment_status", apps.read_namespaced_deployment_status),
      ("read_namespaced_deployment_scale", apps.read_namespaced_deployment_scale)])
each(("AppsV1Api.list_replica_set_for_all_namespaces", apps.list_replica_set_for_all_namespaces),
     [("read_namespaced_replica_set", apps.read_namespaced_replica_set),
      ("read_namespaced_replica_set_status", apps.read_namespaced_replica_set_status),
      ("read_namespaced_replica_set_scale", apps.read_namespaced_replica_set_scale)])
each(("AppsV1Api.list_daemon_set_for_all_namespaces", apps.list_daemon_set_for_all_namespaces),
     [("read_namespaced_daemon_set", apps.read_namespaced_daemon_set),
      ("read_namespaced_daemon_set_status", apps.read_namespaced_daemon_set_status)])
each(("AppsV1Api.list_stateful_set_for_all_namespaces", apps.list_stateful_set_for_all_namespaces),
     [("read_namespaced_stateful_set", apps.read_namespaced_stateful_set),
      ("read_namespaced_stateful_set_status", apps.read_namespaced_stateful_set_status),
      ("read_namespaced_stateful_set_scale", apps.read_namespaced_stateful_set_scale)])
each(("AppsV1Api.list_controller_revision_for_all_namespaces", apps.list_controller_revision_for_all_namespaces),
     [("read_namespaced_controller_revision", apps.read_namespaced_controller_revision)])

each(("BatchV1Api.list_job_for_all_namespaces", batch.list_job_for_all_namespaces),
     [("read_namespaced_job", batch.read_namespaced_job),
      ("read_namespaced_job_status", batch.read_namespaced_job_status)])

# autoscaling/v2 came after this client (22.x knows v2beta2, the same schema):
# use AutoscalingV2Api when the installed client has it.
if hasattr(client, "AutoscalingV2Api"):
    hpa = client.AutoscalingV2Api(api)
    each(("AutoscalingV2Api.list_horizontal_pod_autoscaler_for_all_namespaces",
          hpa.list_horizontal_pod_autoscaler_for_all_namespaces),
         [("read_namespaced_horizontal_pod_autoscaler", hpa.read_namespaced_horizontal_pod_autoscaler),
          ("read_namespaced_horizontal_pod_autoscaler_status", hpa.read_namespaced_horizontal_pod_autoscaler_status)])
else:
    each(("autoscaling/v2 horizontalpodautoscalers as V2beta2HorizontalPodAutoscalerList",
          lambda: raw("/apis/autoscaling/v2/horizontalpodautoscalers", "V2beta2HorizontalPodAutoscalerList")),
         [("autoscaling/v2 horizontalpodautoscaler as V2beta2HorizontalPodAutoscaler",
           lambda n, ns: raw(f"/apis/autoscaling/v2/namespaces/{ns}/horizontalpodautoscalers/{n}",
                             "V2beta2HorizontalPodAutoscaler")),
          ("autoscaling/v2 horizontalpodautoscaler/status as V2beta2HorizontalPodAutoscaler",
           lambda n, ns: raw(f"/apis/autoscaling/v2/namespaces/{ns}/horizontalpodautoscalers/{n}/status",
                             "V2beta2HorizontalPodAutoscaler"))])

each(("PolicyV1Api.list_pod_disruption_budget_for_all_namespaces", policy.list_pod_disruption_budget_for_all_namespaces),
     [("read_namespaced_pod_disruption_budget", policy.read_namespaced_pod_disruption_budget),
      ("read_namespaced_pod_disruption_budget_status", policy.read_namespaced_pod_disruption_budget_status)])
each(("CoordinationV1Api.list_lease_for_all_namespaces", coordination.list_lease_for_all_namespaces),
     [("read_namespaced_lease", coordination.read_namespaced_lease)])

NULL_EVENT_TIME = "Invalid value for `event_time`, must not be `None`"
try:
    core_events = core.list_event_for_all_namespaces().items
except Exception:  # noqa: BLE001 - already reported by the core/v1 checks above
    core_events = []
legacy = [e for e in core_events if e.event_time is None]
record("EventsV1Api.list_event_for_all_namespaces", events.list_event_for_all_namespaces,
       expect=NULL_EVENT_TIME if legacy else None)
for e in core_events[:MAX_READS * 2]:
    md = e.metadata
    record(f"EventsV1Api.read_namespaced_event {md.namespace}/{md.name}",
           lambda: events.read_namespaced_event(md.name, md.namespace),
           expect=NULL_EVENT_TIME if e.event_time is None else None)


# --- the sweep over discovery ------------------------------------------------
def camel(s):
    return s[:1].upper() + s[1:]


def model(group, version, kind):
    """The class this client deserializes `kind` into, by its naming rule (None: it has none)."""
    prefix = "Core" if group == "" else camel(group.split(".")[0])
    versions = [version] + (["v2beta2"] if (group, version) == ("autoscaling", "v2") else [])
    for v in versions:
        for name in (f"{camel(v)}{kind}", f"{prefix}{camel(v)}{kind}"):
            if hasattr(client, name):
                return name
    return None


def sweep():
    found = [("", "v1", core.get_api_resources())]
    for g in client.ApisApi(api).get_api_versions().groups:
        for gv in g.versions:
            out = record(f"discovery /apis/{gv.group_version}",
                         lambda: raw(f"/apis/{gv.group_version}", "V1APIResourceList"))
            if out is not None:
                found.append((g.name, gv.version, out))
    for group, version, rl in found:
        base = f"/apis/{group}/{version}" if group else "/api/v1"
        for r in rl.resources:
            if "/" in r.name or "list" not in (r.verbs or []):
                continue
            item_model = model(group, version, r.kind)
            list_model = model(group, version, r.kind + "List")
            gvr = f"{group or 'core'}/{version}/{r.name}"
            if item_model is None or list_model is None:
                untyped.append(gvr)
                continue
            if gvr == "events.k8s.io/v1/events":
                record(f"sweep list {gvr} as {list_model}", lambda: raw(f"{base}/{r.name}", list_model),
                       expect=NULL_EVENT_TIME if legacy else None)
                continue  # read one by one above, each with what to expect
            out = record(f"sweep list {gvr} as {list_model}", lambda: raw(f"{base}/{r.name}", list_model))
            for item in (out.items if out is not None else [])[:MAX_READS]:
                md = item.metadata
                path = f"{base}/namespaces/{md.namespace}/{r.name}/{md.name}" if r.namespaced else f"{base}/{r.name}/{md.name}"
                record(f"sweep get {gvr} {md.namespace or ''}/{md.name} as {item_model}", lambda: raw(path, item_model))


record("discovery sweep", sweep)
json.dump({"checks": checks, "untyped": untyped}, sys.stdout)
