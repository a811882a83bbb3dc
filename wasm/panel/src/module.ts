import './public-path';

import { PanelPlugin } from '@grafana/data';

import { IsoscopePanel } from './components/IsoscopePanel';
import { DEFAULT_OPTIONS, type PanelOptions } from './types';

export const plugin = new PanelPlugin<PanelOptions>(IsoscopePanel).setPanelOptions((builder) =>
  builder
    .addTextInput({
      path: 'daemonUrl',
      name: 'isoscope daemon URL',
      description: 'Base URL of isoscope serve (its web: cors_origin must allow Grafana); empty = same origin',
      defaultValue: DEFAULT_OPTIONS.daemonUrl,
    })
    .addTextInput({
      path: 'detector',
      name: 'Detector',
      description: 'The bundle comes from /api/v1/detectors/{detector}/bundle',
      defaultValue: DEFAULT_OPTIONS.detector,
    })
    .addTextInput({
      path: 'group',
      name: 'Group',
      description:
        'model: per: group: the group whose own bundle to use — its hash (GET /api/v1/detectors/{detector}/groups) ' +
        'or key, e.g. {job="checkout"}; empty = the pooled model. A group without a bundle gets the pooled one',
      defaultValue: DEFAULT_OPTIONS.group,
    })
    .addNumberInput({
      path: 'warning',
      name: 'Warning threshold',
      description: "A score; empty follows the model: its contamination threshold (isoscope's default)",
    })
    .addNumberInput({
      path: 'critical',
      name: 'Critical threshold',
      description: 'A score; empty follows the model: the threshold at half its contamination share',
    })
    .addNumberInput({ path: 'forMinutes', name: 'for: (minutes)', defaultValue: DEFAULT_OPTIONS.forMinutes })
    .addNumberInput({ path: 'smoothMinutes', name: 'Smoothing window (minutes)', defaultValue: DEFAULT_OPTIONS.smoothMinutes })
    .addNumberInput({
      path: 'evalIntervalSeconds',
      name: 'Rule evaluation interval (seconds)',
      defaultValue: DEFAULT_OPTIONS.evalIntervalSeconds,
    })
);
