"""Checks a Grafana alert provisioning file field by field against Grafana's documented file
format (Grafana 10.x "Create and manage alerting resources using file provisioning", and the
export format of /api/v1/provisioning/alert-rules/export), then against what isoscope rules
was asked to write.

  check_grafana_alerts.py FILE DETECTOR WARNING CRITICAL FOR DATASOURCE_UID

Prints one line per problem and exits 1 when there is any.
"""
import re
import sys

import yaml

NO_DATA_STATES = {"NoData", "Alerting", "OK"}
EXEC_ERR_STATES = {"Error", "Alerting", "OK"}
DURATION = re.compile(r"^([0-9]+(ms|s|m|h|d|w|y))+$")
UID = re.compile(r"^[a-zA-Z0-9_-]{1,40}$")

problems = []


def need(cond, what):
    if not cond:
        problems.append(what)
    return cond


def typed(obj, key, kind, where):
    ok = isinstance(obj, dict) and key in obj and isinstance(obj[key], kind)
    need(ok, f"{where}.{key}: missing or not {kind.__name__ if isinstance(kind, type) else kind}")
    return obj[key] if ok else None


def check_schema(doc):
    need(isinstance(doc, dict), "top level: not a mapping")
    need(doc.get("apiVersion") == 1, "apiVersion: must be 1")
    groups = typed(doc, "groups", list, "")
    for gi, g in enumerate(groups or []):
        w = f"groups[{gi}]"
        typed(g, "orgId", int, w)
        typed(g, "name", str, w)
        typed(g, "folder", str, w)
        interval = typed(g, "interval", str, w)
        if interval is not None:
            need(DURATION.match(interval), f"{w}.interval: {interval!r} is not a duration")
        rules = typed(g, "rules", list, w)
        need(bool(rules), f"{w}.rules: empty")
        for ri, r in enumerate(rules or []):
            rw = f"{w}.rules[{ri}]"
            uid = typed(r, "uid", str, rw)
            if uid is not None:
                need(UID.match(uid), f"{rw}.uid: {uid!r} is not 1-40 of [a-zA-Z0-9_-]")
            typed(r, "title", str, rw)
            cond = typed(r, "condition", str, rw)
            data = typed(r, "data", list, rw)
            refs = []
            for di, d in enumerate(data or []):
                dw = f"{rw}.data[{di}]"
                ref = typed(d, "refId", str, dw)
                refs.append(ref)
                ds = typed(d, "datasourceUid", str, dw)
                model = typed(d, "model", dict, dw)
                if model is not None and ref is not None:
                    need(model.get("refId") == ref, f"{dw}.model.refId: differs from refId")
                if ds == "__expr__" and model is not None:
                    kind = model.get("type")
                    need(kind in {"reduce", "threshold", "math", "resample", "classic_conditions"},
                         f"{dw}.model.type: {kind!r} is not an expression type")
                    need(model.get("datasource") == {"type": "__expr__", "uid": "__expr__"},
                         f"{dw}.model.datasource: must be {{type: __expr__, uid: __expr__}}")
                    if kind in {"reduce", "threshold"}:
                        need(model.get("expression") in refs[:-1],
                             f"{dw}.model.expression: must name an earlier refId")
                    if kind == "reduce":
                        need(model.get("reducer") in {"last", "mean", "min", "max", "sum", "count"},
                             f"{dw}.model.reducer: unknown")
                    if kind == "threshold":
                        cs = model.get("conditions")
                        if need(isinstance(cs, list) and len(cs) == 1,
                                f"{dw}.model.conditions: one condition expected"):
                            ev = cs[0].get("evaluator", {})
                            need(ev.get("type") in {"gt", "lt", "within_range", "outside_range"},
                                 f"{dw}.model.conditions[0].evaluator.type: unknown")
                            need(isinstance(ev.get("params"), list) and len(ev["params"]) >= 1 and
                                 all(isinstance(p, (int, float)) for p in ev["params"]),
                                 f"{dw}.model.conditions[0].evaluator.params: numbers expected")
                elif model is not None:
                    rtr = typed(d, "relativeTimeRange", dict, dw)
                    if rtr is not None:
                        need(isinstance(rtr.get("from"), int) and isinstance(rtr.get("to"), int)
                             and rtr["from"] > rtr["to"] >= 0,
                             f"{dw}.relativeTimeRange: from > to >= 0 (seconds) expected")
                    typed(model, "expr", str, f"{dw}.model")
            need(cond in refs, f"{rw}.condition: {cond!r} is not one of the refIds {refs}")
            need(len(set(refs)) == len(refs), f"{rw}.data: duplicate refId")
            need(r.get("noDataState") in NO_DATA_STATES,
                 f"{rw}.noDataState: {r.get('noDataState')!r} not in {sorted(NO_DATA_STATES)}")
            need(r.get("execErrState") in EXEC_ERR_STATES,
                 f"{rw}.execErrState: {r.get('execErrState')!r} not in {sorted(EXEC_ERR_STATES)}")
            f = typed(r, "for", str, rw)
            if f is not None:
                need(DURATION.match(f), f"{rw}.for: {f!r} is not a duration")
            labels = typed(r, "labels", dict, rw)
            annotations = typed(r, "annotations", dict, rw)
            for name, m in (("labels", labels), ("annotations", annotations)):
                for k, v in (m or {}).items():
                    need(isinstance(k, str) and isinstance(v, str), f"{rw}.{name}.{k}: not a string")
    return groups or []


def check_content(groups, detector, warning, critical, for_, ds_uid):
    need(len(groups) == 1, "one rule group expected")
    rules = groups[0].get("rules", []) if groups else []
    need(len(rules) == 2, "two rules (warning, critical) expected")
    want = {"warning": warning, "critical": critical}
    seen = set()
    for r in rules:
        sev = r.get("labels", {}).get("severity")
        seen.add(sev)
        if not need(sev in want, f"rule {r.get('uid')}: severity {sev!r}"):
            continue
        need(r.get("for") == for_, f"{sev}: for {r.get('for')!r}, expected {for_!r}")
        data = {d["refId"]: d for d in r["data"]}
        a = data.get("A", {})
        need(a.get("datasourceUid") == ds_uid, f"{sev}: A.datasourceUid {a.get('datasourceUid')!r}")
        expr = a.get("model", {}).get("expr", "")
        need(f'{{detector="{detector}"}}' in expr, f"{sev}: A.expr does not select {detector}")
        need(a.get("model", {}).get("instant") is True, f"{sev}: A must be instant ($values.A)")
        c = data.get("C", {}).get("model", {})
        params = c.get("conditions", [{}])[0].get("evaluator", {}).get("params")
        if isinstance(want[sev], float):
            need(params == [want[sev]], f"{sev}: threshold {params}, expected [{want[sev]}]")
            need("anomaly_surprise" not in expr, f"{sev}: a score threshold on the surprise")
        elif want[sev].startswith("surprise:"):
            # A calibrated surprise: the smoothed anomaly_surprise against the fixed number.
            n = float(want[sev][len("surprise:"):])
            need(params == [n], f"{sev}: threshold {params}, expected [{n}]")
            need("anomaly_surprise" in expr, f"{sev}: A.expr is not on the smoothed surprise")
            need("anomaly_alert_threshold" not in expr, f"{sev}: a surprise needs no daemon threshold")
        else:
            # Relative to the model: A keeps only the scores above the daemon's resolved
            # threshold for this severity, and C asks for any score at all.
            need(f'anomaly_alert_threshold{{detector="{detector}",severity="{sev}"}}' in expr,
                 f"{sev}: A.expr does not compare with the daemon's {sev} threshold")
            need(params == [0], f"{sev}: threshold {params}, expected [0]")
        summary = r.get("annotations", {}).get("summary", "")
        need('{{ $values.A.Value | printf "%.3f" }}' in summary, f"{sev}: summary lacks the value")
        need("{{ $labels.model_version }}" in summary, f"{sev}: summary lacks the model version")
    need(seen == set(want), f"severities {sorted(s for s in seen if s)}")


def main():
    path, detector, warning, critical, for_, ds_uid = sys.argv[1:7]
    with open(path) as f:
        doc = yaml.safe_load(f)
    groups = check_schema(doc)
    def threshold(text):  # a score, or a surprise or relative threshold (kept as text)
        try:
            return float(text)
        except ValueError:
            return text
    check_content(groups, detector, threshold(warning), threshold(critical), for_, ds_uid)
    for p in problems:
        print(f"{path}: {p}")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
