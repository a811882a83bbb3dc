// The panel's options (Grafana's convention: options in types.ts; module.ts builds the editor).
import { DEFAULT_SETTINGS, type WhatIfSettings } from './whatif';

export interface PanelOptions extends WhatIfSettings {
  /** Base URL of isoscope serve, e.g. http://isoscope:8080 (empty: same origin). */
  daemonUrl: string;
  detector: string;
  /** model: per: group: the group's hash or key (empty: the detector's pooled model). */
  group: string;
}

export const DEFAULT_OPTIONS: PanelOptions = { ...DEFAULT_SETTINGS, daemonUrl: '', detector: '', group: '' };
