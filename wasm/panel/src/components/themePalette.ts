// The chart's colours from the Grafana theme (light or dark, and the instance's own palette),
// as Grafana's panel convention asks: the panel passes useTheme2()'s theme here. The standalone
// page has no Grafana theme and keeps WhatIf's DARK.
import type { GrafanaTheme2 } from '@grafana/data';

import type { Palette } from './WhatIf';

export function paletteFromTheme(theme: GrafanaTheme2): Palette {
  const named = (name: string) => theme.visualization.getColorByName(name);
  return {
    text: theme.colors.text.primary,
    weak: theme.colors.text.secondary,
    background: 'transparent',
    grid: theme.colors.border.weak,
    series: ['green', 'blue', 'purple', 'orange', 'super-light-blue', 'light-green'].map(named),
    score: named('yellow'),
    warning: theme.colors.warning.main,
    critical: theme.colors.error.main,
    contamination: named('super-light-blue'),
  };
}
