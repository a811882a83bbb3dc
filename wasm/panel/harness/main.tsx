// Plays Grafana's part for the built dist/module.js: an AMD `define` that hands the plugin
// react, react-dom and @grafana/data, then renders plugin.panel with PanelProps built from
// real data frames (the CSV the harness server offers, one frame per column, as Prometheus
// range queries return them) and an onOptionsChange that updates the options like Grafana.
import React, { useState } from 'react';
import * as ReactDOM from 'react-dom';
import { createRoot } from 'react-dom/client';
import * as GrafanaData from '@grafana/data';
import { FieldType, LoadingState, dateTime, toDataFrame, type DataFrame, type PanelPlugin } from '@grafana/data';

const harnessTheme = GrafanaData.createTheme();

interface HarnessConfig {
  pluginUrl: string;
  csvUrl: string;
  options: Record<string, unknown>;
  width: number;
  height: number;
}

declare global {
  interface Window {
    define: ((deps: string[], factory: (...a: unknown[]) => unknown) => void) & { amd?: boolean };
    __harness: HarnessConfig;
    __options: Record<string, unknown>;
    __harnessError?: string;
  }
}

function parseCsv(text: string): DataFrame[] {
  const lines = text.trim().split('\n');
  const header = lines[0].split(',');
  const times: number[] = [];
  const columns: Array<Array<number | null>> = header.slice(1).map(() => []);
  for (const line of lines.slice(1)) {
    const cells = line.split(',');
    times.push(Date.parse(cells[0]));
    for (let k = 1; k < header.length; k++) columns[k - 1].push(cells[k] === '' ? null : Number(cells[k]));
  }
  return header.slice(1).map((name, k) =>
    toDataFrame({
      refId: String.fromCharCode(65 + k),
      fields: [
        { name: 'Time', type: FieldType.time, values: times },
        { name: 'Value', type: FieldType.number, values: columns[k], config: { displayNameFromDS: name } },
      ],
    })
  );
}

function loadPlugin(url: string): Promise<PanelPlugin> {
  return new Promise((resolve, reject) => {
    const modules: Record<string, unknown> = {
      react: React,
      'react-dom': ReactDOM,
      '@grafana/data': GrafanaData,
      // Grafana hands panels its current theme through @grafana/ui's useTheme2: here the
      // default (dark) theme @grafana/data creates.
      '@grafana/ui': { useTheme2: () => harnessTheme },
      '@grafana/runtime': {},
      '@grafana/schema': {},
      module: { uri: new URL(url, location.href).href },
    };
    const define = (deps: string[], factory: (...a: unknown[]) => unknown) => {
      const exports: Record<string, unknown> = {};
      const args = deps.map((d) => (d === 'exports' ? exports : d in modules ? modules[d] : undefined));
      const missing = deps.filter((d) => d !== 'exports' && !(d in modules));
      if (missing.length) return reject(new Error(`module.js asks for ${missing.join(', ')}`));
      const result = factory(...args) as { plugin?: PanelPlugin } | undefined;
      const plugin = result?.plugin ?? (exports.plugin as PanelPlugin | undefined);
      return plugin ? resolve(plugin) : reject(new Error('module.js exports no plugin'));
    };
    define.amd = true;
    window.define = define as Window['define'];
    const script = document.createElement('script');
    script.src = url;
    script.onerror = () => reject(new Error(`cannot load ${url}`));
    document.head.appendChild(script);
  });
}

function Host({ plugin, frames, config }: { plugin: PanelPlugin; frames: DataFrame[]; config: HarnessConfig }) {
  const [options, setOptions] = useState(config.options);
  window.__options = options;
  const t = frames[0]?.fields[0].values as number[] | undefined;
  const from = dateTime(t?.[0] ?? 0);
  const to = dateTime(t?.[t.length - 1] ?? 0);
  const timeRange = { from, to, raw: { from, to } };
  const Panel = plugin.panel as unknown as React.ComponentType<Record<string, unknown>>;
  return (
    <div style={{ width: config.width, height: config.height, background: '#181b1f', padding: 8 }}>
      <Panel
        id={1}
        data={{ state: LoadingState.Done, series: frames, timeRange }}
        timeRange={timeRange}
        timeZone="utc"
        options={options}
        fieldConfig={{ defaults: {}, overrides: [] }}
        width={config.width}
        height={config.height}
        transparent={false}
        renderCounter={0}
        title="isoscope what-if"
        eventBus={{}}
        onOptionsChange={(o: Record<string, unknown>) => setOptions(o)}
        onFieldConfigChange={() => {}}
        replaceVariables={(s: string) => s}
        onChangeTimeRange={() => {}}
      />
    </div>
  );
}

async function main() {
  const config = window.__harness;
  const [plugin, text] = await Promise.all([
    loadPlugin(config.pluginUrl),
    config.csvUrl ? fetch(config.csvUrl).then((r) => r.text()) : Promise.resolve(''),
  ]);
  const frames = text ? parseCsv(text) : [];
  createRoot(document.getElementById('root')!).render(<Host plugin={plugin} frames={frames} config={config} />);
}

main().catch((e) => {
  window.__harnessError = String(e?.stack ?? e);
  document.body.append(`harness error: ${String(e)}`);
});
