// The SiteOps alerts: promtool checks and unit-tests them, every alert is exercised both ways, links to an
// existing runbook, and uses only metrics the operator really exports (src/metrics/names.ts, and the text
// output of createOperatorMetrics()).
import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import yaml from 'js-yaml';
import { Counter, Gauge, Histogram } from 'prom-client';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { metricLabels, metricNames } from '../../src/metrics/names.js';
import { createOperatorMetrics } from '../../src/metrics/registry.js';
import { run } from '../../scripts/chart-tools/cache.js';
import { CHART_DIR, NON_DEFAULT_VALUES, REPO_ROOT, helmTemplate, only, type Json } from './support/chart.js';
import { namesInExpression, templateLabels } from './support/promql.js';
import './provided-context.js';

const promtool = inject('promtoolBinary');
const helm = inject('helmBinary');
const RULES_FILE = path.join(CHART_DIR, 'files', 'alerts.yaml');
const TESTS_FILE = path.join(REPO_ROOT, 'test', 'chart', 'alerts.test.yaml');
const DEFAULT_RUNBOOKS = 'https://github.com/chat-tenant-operator/chat-tenant-operator/blob/main/docs/runbooks/';
/** Series Prometheus itself makes for every target; not the operator's to export. */
const PROMETHEUS_SERIES = new Set(['up']);
/** Target labels Prometheus attaches to every scraped series. */
const TARGET_LABELS = new Set(['instance', 'job']);

interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

let rules: AlertRule[] = [];
beforeAll(async () => {
  const file = yaml.load(await readFile(RULES_FILE, 'utf8')) as { groups: Array<{ rules: AlertRule[] }> };
  rules = file.groups.flatMap((g) => g.rules);
});

describe('promtool', () => {
  it('check rules: the rules file parses and every expression is valid PromQL', async () => {
    const r = await run(promtool, ['check', 'rules', RULES_FILE]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`SUCCESS: ${rules.length} rules found`);
  });

  it('test rules: every case of test/chart/alerts.test.yaml passes', async () => {
    const r = await run(promtool, ['test', 'rules', TESTS_FILE]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });
});

describe('the alert rules', () => {
  const expected = [
    'ChatTenantOperatorDown',
    'ChatTenantOperatorNoLeader',
    'ChatTenantOperatorReconcileErrors',
    'ChatTenantNotReady',
    'ChatTenantMessagingDegraded',
    'ChatTenantDatabaseDegraded',
    'ChatTenantSafeguardNotHolding',
    'ChatTenantCertificateExpiringSoon',
    'ChatTenantBackupTooOld',
    'ChatTenantBackupNeverSucceeded',
    'ChatTenantBackupFailed',
  ];

  it('are the SiteOps set, each once', () => {
    expect(rules.map((r) => r.alert).sort()).toEqual([...expected].sort());
  });

  it('each fire in some promtool case and stay silent in another', async () => {
    const tests = yaml.load(await readFile(TESTS_FILE, 'utf8')) as { tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts: unknown[] }> }> };
    const cases = tests.tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const name of expected) {
      expect(cases.some((c) => c.alertname === name && c.exp_alerts.length > 0), `${name} fires somewhere`).toBe(true);
      expect(cases.some((c) => c.alertname === name && c.exp_alerts.length === 0), `${name} stays silent somewhere`).toBe(true);
    }
  });

  it('each have a severity, a summary, a description and a runbook_url to docs/runbooks/<AlertName>.md that exists', async () => {
    for (const rule of rules) {
      expect(['critical', 'warning'], rule.alert).toContain(rule.labels?.['severity']);
      expect(rule.annotations?.['summary'], rule.alert).toBeTruthy();
      expect(rule.annotations?.['description'], rule.alert).toBeTruthy();
      expect(rule.annotations?.['runbook_url'], rule.alert).toBe(`${DEFAULT_RUNBOOKS}${rule.alert}.md`);
      await access(path.join(REPO_ROOT, 'docs', 'runbooks', `${rule.alert}.md`));
    }
  });

  it('use only metric names from src/metrics/names.ts, with their labels', () => {
    const known = new Set<string>(Object.values(metricNames));
    const labelsByMetric = new Map<string, readonly string[]>(
      (Object.keys(metricNames) as Array<keyof typeof metricNames>).map((k) => [metricNames[k], metricLabels[k]]),
    );
    const problems: string[] = [];
    for (const rule of rules) {
      const { metrics, labels } = namesInExpression(rule.expr);
      const ours = metrics.filter((m) => !PROMETHEUS_SERIES.has(m));
      for (const m of ours) if (!known.has(m)) problems.push(`${rule.alert}: unknown metric ${m}`);
      const allowed = new Set<string>([...TARGET_LABELS, ...ours.flatMap((m) => labelsByMetric.get(m) ?? [])]);
      const annotationText = Object.values(rule.annotations ?? {}).join(' ');
      for (const l of [...labels, ...templateLabels(annotationText)]) if (!allowed.has(l)) problems.push(`${rule.alert}: label ${l} is not a label of ${ours.join(', ')}`);
    }
    expect(problems).toEqual([]);
  });

  it('use only metric names that createOperatorMetrics() exports once each labelled metric has a sample', async () => {
    const metrics = createOperatorMetrics({ defaultMetrics: false });
    for (const key of Object.keys(metricNames) as Array<keyof typeof metricNames>) {
      const metric = metrics[key] as unknown;
      const labels = Object.fromEntries(metricLabels[key].map((l) => [l, 'sample']));
      if (metric instanceof Histogram) metric.observe(labels, 0.1);
      else if (metric instanceof Counter) metric.inc(labels);
      else if (metric instanceof Gauge) metric.set(labels, 1);
      else throw new Error(`${key} is neither a Counter, a Gauge nor a Histogram`);
    }
    const text = await metrics.registry.metrics();
    const exported = new Set(text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(/[{ ]/)[0]!));
    const used = new Set(rules.flatMap((r) => namesInExpression(r.expr).metrics).filter((m) => !PROMETHEUS_SERIES.has(m)));
    expect(used.size).toBeGreaterThan(10);
    expect([...used].filter((m) => !exported.has(m))).toEqual([]);
  });
});

describe('the PrometheusRule of the chart', () => {
  it('holds exactly the groups of files/alerts.yaml, with runbook links on runbookBaseURL', async () => {
    const plain = yaml.load(await readFile(RULES_FILE, 'utf8')) as Json;
    const rule = only(await helmTemplate(helm, NON_DEFAULT_VALUES), 'PrometheusRule');
    const relinked = JSON.parse(JSON.stringify(plain).replaceAll(DEFAULT_RUNBOOKS, NON_DEFAULT_VALUES['prometheusRule']['runbookBaseURL']));
    expect(rule['spec']).toEqual(relinked);
    expect(JSON.stringify(rule['spec'])).not.toContain(DEFAULT_RUNBOOKS);
  });
});

describe('the PromQL reader used above', () => {
  it('finds metrics and labels, and skips functions, keywords, numbers, strings and durations', () => {
    expect(namesInExpression('sum by (tenant) (rate(foo_total{a="x", b=~"y|z"}[5m] offset 1h)) > 1e3 and on (instance) bar == 1')).toEqual({
      metrics: ['foo_total', 'bar'],
      labels: ['a', 'b', 'tenant', 'instance'],
    });
    expect(namesInExpression('absent(up{job="by (x)"} == 1) or vector(0)').metrics).toEqual(['up']);
    expect(templateLabels('{{ $labels.tenant }} and {{ $labels.safeguard }} at {{ $value }}')).toEqual(['tenant', 'safeguard']);
  });
});
