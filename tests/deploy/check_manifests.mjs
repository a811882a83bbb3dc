// Offline checks of native/deploy/kubernetes (no cluster): every manifest against the
// Kubernetes API schema (kubernetes-models) or the Prometheus Operator's CRD schema
// (@kubernetes-models/prometheus-operator), then the wiring between them. Writes the files
// the shell driver checks with the real tools: isoscope.yml (from the ConfigMap, for
// `isoscope check-config`) and rules.yml (from the PrometheusRule, for `promtool check rules`).
//   node check_manifests.mjs DEPLOY_DIR OUT_DIR
// Prints "ok ..." / "FAIL ..." lines and "N passed, N failed"; exits 1 on any failure.
import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Service } from "kubernetes-models/v1/Service";
import { PersistentVolumeClaim } from "kubernetes-models/v1/PersistentVolumeClaim";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { StatefulSet } from "kubernetes-models/apps/v1/StatefulSet";
import { CronJob } from "kubernetes-models/batch/v1/CronJob";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import { ServiceMonitor, PrometheusRule } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";

const [deployDir, outDir] = process.argv.slice(2);
let passed = 0;
let failed = 0;
function check(cond, what) {
  if (cond) {
    passed++;
  } else {
    failed++;
    console.log("FAIL " + what);
  }
}
function eq(a, b, what) {
  check(JSON.stringify(a) === JSON.stringify(b), `${what}: ${JSON.stringify(a)} != ${JSON.stringify(b)}`);
}

const MODELS = {
  "v1/ConfigMap": ConfigMap,
  "v1/Service": Service,
  "v1/PersistentVolumeClaim": PersistentVolumeClaim,
  "apps/v1/Deployment": Deployment,
  "apps/v1/StatefulSet": StatefulSet,
  "batch/v1/CronJob": CronJob,
  "networking.k8s.io/v1/NetworkPolicy": NetworkPolicy,
  "monitoring.coreos.com/v1/ServiceMonitor": ServiceMonitor,
  "monitoring.coreos.com/v1/PrometheusRule": PrometheusRule,
};

// Schema validation; returns the error message, or "" when valid.
function schemaError(obj) {
  const Model = MODELS[`${obj.apiVersion}/${obj.kind}`];
  if (!Model) return `no schema for ${obj.apiVersion} ${obj.kind}`;
  try {
    new Model(obj).validate();
    return "";
  } catch (e) {
    return e.message;
  }
}

// The validator must be live: objects broken in known ways are refused.
const broken = [
  { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "x" },
    spec: { template: { spec: { containers: [{ name: "c", image: "i" }] } } } },  // no selector
  { apiVersion: "v1", kind: "Service", metadata: { name: "x" }, spec: { ports: [{ port: "http" }] } },
  { apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: { name: "x" },
    spec: { resources: { requests: { storage: "one gig" } } } },  // not a quantity
  { apiVersion: "monitoring.coreos.com/v1", kind: "ServiceMonitor", metadata: { name: "x" },
    spec: { endpoints: [{ port: "a" }] } },  // no selector
];
for (const b of broken) check(schemaError(b) !== "", `schema refuses a broken ${b.kind}`);

// Kustomizations: every resource exists, every manifest of a directory is listed.
const objects = [];  // {file, obj}
function loadKustomization(dir, seen) {
  const kfile = path.join(dir, "kustomization.yaml");
  const k = YAML.parse(fs.readFileSync(kfile, "utf8"));
  eq(k.kind, "Kustomization", `${kfile} kind`);
  const listed = new Set();
  for (const r of k.resources) {
    const p = path.resolve(dir, r);
    check(fs.existsSync(p), `${kfile}: resource ${r} exists`);
    if (!fs.existsSync(p)) continue;
    if (fs.statSync(p).isDirectory()) {
      loadKustomization(p, seen);
      continue;
    }
    listed.add(path.basename(p));
    if (seen.has(p)) continue;
    seen.add(p);
    for (const doc of YAML.parseAllDocuments(fs.readFileSync(p, "utf8"))) {
      check(doc.errors.length === 0, `${p}: YAML ${doc.errors.map(String).join("; ")}`);
      objects.push({ file: path.relative(deployDir, p), obj: doc.toJSON() });
    }
  }
  for (const f of fs.readdirSync(dir)) {
    if (f.endsWith(".yaml") && f !== "kustomization.yaml") {
      check(listed.has(f), `${kfile} lists ${f}`);
    }
  }
}
const variants = { single: deployDir, sharded: path.join(deployDir, "sharded") };
const byVariant = {};
for (const [name, dir] of Object.entries(variants)) {
  objects.length = 0;
  loadKustomization(dir, new Set());
  byVariant[name] = objects.slice();
}

const validated = new Set();
for (const list of Object.values(byVariant)) {
  for (const { file, obj } of list) {
    const key = `${file}/${obj.kind}/${obj.metadata?.name}`;
    if (validated.has(key)) continue;
    validated.add(key);
    const err = schemaError(obj);
    check(err === "", `${file} ${obj.kind} ${obj.metadata?.name}: schema: ${err}`);
  }
}
console.log(`ok ${validated.size} manifests validated against their schemas`);

const find = (list, kind) => list.filter((o) => o.obj.kind === kind).map((o) => o.obj);
const subset = (sel, labels) => Object.entries(sel || {}).every(([k, v]) => labels?.[k] === v);

// The ConfigMap's isoscope.yml, written out for `isoscope check-config`.
const all = byVariant.single;
const [cm] = find(all, "ConfigMap");
const configText = cm.data["isoscope.yml"];
fs.writeFileSync(path.join(outDir, "isoscope.yml"), configText);
const config = YAML.parse(configText);
const detectors = config.detectors.map((d) => d.name);
const [pvc] = find(all, "PersistentVolumeClaim");
const [svc] = find(all, "Service").filter((s) => s.spec.clusterIP !== "None");
const [headless] = find(all, "Service").filter((s) => s.spec.clusterIP === "None");
const [sm] = find(all, "ServiceMonitor");
const [np] = find(all, "NetworkPolicy");
const [rule] = find(all, "PrometheusRule");
fs.writeFileSync(path.join(outDir, "rules.yml"), YAML.stringify({ groups: rule.spec.groups }));
const listenPort = Number(config.web.listen_address.split(":").pop());

// Volumes and mounts of a pod spec: config from the ConfigMap at dirname(--config), models from
// the PVC at models_dir; returns the config path the container reads.
function checkPod(what, pod, container, args, { modelsReadOnly }) {
  const vols = Object.fromEntries(pod.volumes.map((v) => [v.name, v]));
  for (const m of container.volumeMounts) check(vols[m.name], `${what}: mount ${m.name} has a volume`);
  const mountOf = (name) => container.volumeMounts.find((m) => m.name === name) || {};
  const configArg = args[args.indexOf("--config") + 1];
  const cfgVol = Object.values(vols).find((v) => v.configMap);
  eq(cfgVol?.configMap?.name, cm.metadata.name, `${what}: config volume is the ConfigMap`);
  eq(path.join(mountOf(cfgVol.name).mountPath, "isoscope.yml"), configArg,
     `${what}: --config is the ConfigMap key as mounted`);
  check(Object.keys(cm.data).includes(path.basename(configArg)), `${what}: ConfigMap has key ${path.basename(configArg)}`);
  const modelVol = Object.values(vols).find((v) => v.persistentVolumeClaim);
  eq(modelVol?.persistentVolumeClaim?.claimName, pvc.metadata.name, `${what}: models volume is the PVC`);
  eq(mountOf(modelVol.name).mountPath, config.models_dir, `${what}: models mounted at models_dir`);
  eq(Boolean(mountOf(modelVol.name).readOnly), modelsReadOnly, `${what}: models mount readOnly`);
  eq(pod.securityContext?.runAsNonRoot, true, `${what}: runAsNonRoot`);
  eq(container.securityContext?.readOnlyRootFilesystem, true, `${what}: readOnlyRootFilesystem`);
  eq(container.securityContext?.allowPrivilegeEscalation, false, `${what}: no privilege escalation`);
  check(container.resources?.requests?.cpu && container.resources?.requests?.memory &&
        container.resources?.limits?.cpu && container.resources?.limits?.memory,
        `${what}: resource requests and limits`);
}

// The serving workloads: Deployment (single) and StatefulSet (sharded).
for (const [variant, kind] of [["single", "Deployment"], ["sharded", "StatefulSet"]]) {
  const list = byVariant[variant];
  const ws = find(list, kind);
  eq(ws.length, 1, `${variant}: one ${kind}`);
  eq(find(list, kind === "Deployment" ? "StatefulSet" : "Deployment").length, 0, `${variant}: no other workload`);
  const w = ws[0];
  const what = `${variant} ${kind}`;
  const pod = w.spec.template.spec;
  const labels = w.spec.template.metadata.labels;
  check(subset(w.spec.selector.matchLabels, labels), `${what}: selector matches its pod labels`);
  check(subset(svc.spec.selector, labels), `${what}: Service selects its pods`);
  check(subset(np.spec.podSelector.matchLabels, labels), `${what}: NetworkPolicy applies to its pods`);
  eq(pod.containers.length, 1, `${what}: one container`);
  const c = pod.containers[0];
  const port = c.ports.find((p) => p.name === svc.spec.ports[0].targetPort);
  check(port, `${what}: Service targetPort ${svc.spec.ports[0].targetPort} is a container port`);
  eq(port?.containerPort, listenPort, `${what}: container port is web.listen_address's`);
  eq(c.readinessProbe?.httpGet?.path, "/readyz", `${what}: readiness on /readyz`);
  eq(c.livenessProbe?.httpGet?.path, "/healthz", `${what}: liveness on /healthz`);
  eq(c.readinessProbe?.httpGet?.port, port?.name, `${what}: readiness probe port`);
  eq(c.livenessProbe?.httpGet?.port, port?.name, `${what}: liveness probe port`);
  let args = c.args;
  if (kind === "StatefulSet") {
    // sh -c "exec isoscope serve ... --shard ${POD_NAME##*-}/${SHARDS}"
    eq(c.command, ["/bin/sh", "-c"], `${what}: shell for the ordinal`);
    args = c.args[0].split(/\s+/);
    eq(args.slice(0, 3), ["exec", "isoscope", "serve"], `${what}: runs isoscope serve`);
    eq(args[args.indexOf("--shard") + 1], '"${POD_NAME##*-}/${SHARDS}"', `${what}: shard from the ordinal`);
    const env = Object.fromEntries(c.env.map((e) => [e.name, e]));
    eq(env.POD_NAME?.valueFrom?.fieldRef?.fieldPath, "metadata.name", `${what}: POD_NAME from metadata.name`);
    eq(Number(env.SHARDS?.value), w.spec.replicas, `${what}: SHARDS equals replicas`);
    check(w.spec.replicas > 1, `${what}: more than one replica`);
  } else {
    eq(args[0], "serve", `${what}: runs serve`);
  }
  checkPod(what, pod, c, args, { modelsReadOnly: true });
}

// Service, ServiceMonitor, NetworkPolicy, CronJob, PrometheusRule.
check(headless, "a headless Service for pod DNS");
eq(headless.spec.selector, svc.spec.selector, "headless Service selects the same pods");
eq(headless.spec.ports, svc.spec.ports, "headless Service has the same port");
check(!subset(sm.spec.selector.matchLabels, headless.metadata.labels), "ServiceMonitor does not select the headless Service (no double scrape)");
eq(find(byVariant.sharded, "StatefulSet")[0].spec.serviceName, headless.metadata.name, "StatefulSet serviceName is the headless Service");
const scrape = YAML.parse(fs.readFileSync(path.join(deployDir, "scrape_config.example.yml"), "utf8"));
const sd = scrape.scrape_configs[0].dns_sd_configs[0];
eq(sd.names[0].split(".")[0], headless.metadata.name, "scrape example resolves the headless Service");
eq(sd.port, listenPort, "scrape example port");
eq(scrape.scrape_configs[0].honor_labels, true, "scrape example honor_labels");
eq(svc.spec.ports[0].port, listenPort, "Service port");
check(subset(sm.spec.selector.matchLabels, svc.metadata.labels), "ServiceMonitor selects the Service");
eq(sm.spec.endpoints[0].port, svc.spec.ports[0].name, "ServiceMonitor port is the Service's port name");
eq(sm.spec.endpoints[0].path, "/metrics", "ServiceMonitor path");
eq(sm.spec.endpoints[0].honorLabels, true, "ServiceMonitor honorLabels keeps group labels");
eq(np.spec.policyTypes, ["Ingress"], "NetworkPolicy restricts ingress");
eq(np.spec.ingress.length, 1, "NetworkPolicy has one rule");
eq(np.spec.ingress[0].ports, [{ protocol: "TCP", port: listenPort }], "NetworkPolicy admits the metrics port only");
eq(np.spec.ingress[0].from.length, 1, "NetworkPolicy has one source");
eq(np.spec.ingress[0].from[0].podSelector?.matchLabels, { "app.kubernetes.io/name": "prometheus" },
   "NetworkPolicy source is the Prometheus pods");
check(np.spec.ingress[0].from[0].namespaceSelector, "NetworkPolicy source namespace is selected");
// The training CronJobs: plain (single), an Indexed Job of SHARDS pods (sharded) whose pod I runs
// train --shard I/SHARDS, I from JOB_COMPLETION_INDEX, SHARDS the StatefulSet's replicas.
for (const [variant, list] of Object.entries(byVariant)) {
  const crons = find(list, "CronJob");
  eq(crons.length, 1, `${variant}: one training CronJob`);
  const cj = crons[0];
  eq(cj.spec.schedule, "0 2 * * 0", `${variant} CronJob weekly at 02:00 on Sunday`);
  eq(cj.spec.concurrencyPolicy, "Forbid", `${variant} CronJob never overlaps`);
  const job = cj.spec.jobTemplate.spec;
  const pod = job.template.spec;
  const trainedHere = [];
  for (const c of pod.containers) {
    const what = `${variant} CronJob ${c.name}`;
    let args = c.args;
    if (variant === "sharded") {
      const replicas = find(list, "StatefulSet")[0].spec.replicas;
      eq(job.completionMode, "Indexed", `${what}: an Indexed Job`);
      eq(job.completions, replicas, `${what}: completions equal the StatefulSet's replicas`);
      eq(job.parallelism, replicas, `${what}: every shard at once`);
      eq(c.command, ["/bin/sh", "-c"], `${what}: shell for the index`);
      args = c.args[0].split(/\s+/);
      eq(args.slice(0, 3), ["exec", "isoscope", "train"], `${what}: runs isoscope train`);
      eq(args[args.indexOf("--shard") + 1], '"${JOB_COMPLETION_INDEX}/${SHARDS}"', `${what}: shard from the completion index`);
      const env = Object.fromEntries((c.env || []).map((e) => [e.name, e]));
      eq(Number(env.SHARDS?.value), replicas, `${what}: SHARDS equals completions`);
      args = args.slice(2);
    } else {
      check(!job.completionMode || job.completionMode === "NonIndexed", `${what}: one pod`);
    }
    eq(args.slice(0, 1), ["train"], `${what} runs train`);
    trainedHere.push(args[args.indexOf("--detector") + 1]);
    checkPod(what, pod, c, args, { modelsReadOnly: false });
  }
  eq(trainedHere.sort(), detectors.slice().sort(), `${variant} CronJob trains every detector of the ConfigMap`);
}
const rules = rule.spec.groups.flatMap((g) => g.rules);
eq(rules.find((r) => r.record === "job:anomaly_score:avg5m")?.expr, "avg_over_time(anomaly_score[5m])", "recording rule");
for (const [name, sev] of [["AnomalyScoreWarning", "warning"], ["AnomalyScoreCritical", "critical"]]) {
  const a = rules.find((r) => r.alert === name);
  eq(a?.expr,
    `job:anomaly_score:avg5m > on(detector) group_left() max by (detector) (anomaly_alert_threshold{severity="${sev}"})`,
    `${name} expr: above the daemon's resolved ${sev} threshold`);
  eq(a?.for, "3m", `${name} for`);
}
for (const o of all) {
  if (o.obj.kind === "Kustomization") continue;
  eq(o.obj.metadata.labels?.["app.kubernetes.io/name"], "isoscope", `${o.file}: labelled app.kubernetes.io/name`);
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
