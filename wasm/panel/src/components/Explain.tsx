// The point under the cursor (time, score, surprise and its contributions as a bar chart) and
// the list of pages, each with the input that drove it. Explanations come from explain.ts,
// computed only for what is shown here.
import React from 'react';

import type { PageCause, PointExplanation } from '../explain';
import type { Palette } from './WhatIf';

const BAR_W = 120;

function utc(t: number): string {
  return `${new Date(t).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function fmt(v: number, digits: number): string {
  return Number.isFinite(v) ? v.toFixed(digits) : '-';
}

export interface HoverPoint {
  time: number;
  score: number;
  surprise: number;
  explanation: PointExplanation | null;
}

/** The hovered point's card; `left` is its x within the view. */
export function HoverCard({ point, left, top, palette: p }: { point: HoverPoint; left: number; top: number; palette: Palette }) {
  const e = point.explanation;
  const order = e ? Array.from(e.contributions.keys()).sort((a, b) => e.contributions[b] - e.contributions[a]) : [];
  const scale = e ? Math.max(1e-12, ...Array.from(e.contributions, Math.abs)) : 1;
  return (
    <div
      data-testid="hover-card"
      data-time={point.time}
      data-score={point.score}
      data-surprise={point.surprise}
      data-explain-ms={e ? e.ms.toFixed(3) : ''}
      style={{ position: 'absolute', left, top, pointerEvents: 'none', background: 'rgba(24,27,31,0.95)', border: `1px solid ${p.grid}`, padding: 6, fontSize: 11, zIndex: 2, minWidth: 180 }}
    >
      <div>{utc(point.time)}</div>
      <div>
        score <b data-testid="hover-score">{fmt(point.score, 4)}</b> · surprise{' '}
        <b data-testid="hover-surprise" title="-log10 of the chance that a normal stretch scores this high">
          {fmt(point.surprise, 2)}
        </b>
      </div>
      {e && (
        <>
          <div style={{ color: p.weak, margin: '3px 0' }}>
            top input <b data-testid="hover-top-input" style={{ color: p.text }}>{e.topInput ?? '-'}</b>; log2 of the score over
            the baseline {fmt(e.baselineScore, 3)}, per feature:
          </div>
          <svg data-testid="explain-bars" width={BAR_W * 2 + 150} height={order.length * 13} role="img" aria-label="contributions">
            {order.map((j, row) => {
              const c = e.contributions[j];
              const w = (Math.abs(c) / scale) * BAR_W;
              const k = e.columnInputs[j];
              return (
                <g key={e.features[j]} className="explain-bar" data-feature={e.features[j]} data-input={k >= 0 ? e.inputs[k] : ''} data-value={c}>
                  <text x={0} y={row * 13 + 10} fill={p.text} fontSize={10}>
                    {e.features[j]}
                  </text>
                  <rect x={c >= 0 ? 150 + BAR_W : 150 + BAR_W - w} y={row * 13 + 2} width={Math.max(1, w)} height={9} fill={c >= 0 ? p.critical : p.contamination} />
                  <text x={150 + 2 * BAR_W} y={row * 13 + 10} fill={p.weak} fontSize={9} textAnchor="end">
                    {c >= 0 ? '+' : ''}
                    {c.toFixed(3)}
                  </text>
                </g>
              );
            })}
          </svg>
        </>
      )}
    </div>
  );
}

/** One line per page (critical firing start) naming its top input. */
export function PageList({ causes, total, ms, palette: p }: { causes: PageCause[]; total: number; ms: number; palette: Palette }) {
  if (total === 0) return null;
  return (
    <div data-testid="page-list" data-explain-ms={ms.toFixed(3)} style={{ fontSize: 11, maxHeight: 34, overflowY: 'auto' }}>
      <span style={{ color: p.weak }}>pages (top input): </span>
      {causes.map((c) => (
        <span key={c.time} className="page-item" data-time={c.time} data-top-input={c.topInput ?? ''} style={{ marginRight: 10 }}>
          {utc(c.time).slice(5, 16)} <b style={{ color: p.critical }}>{c.topInput ?? '-'}</b>
        </span>
      ))}
      {total > causes.length && <span style={{ color: p.weak }}>and {total - causes.length} more</span>}
    </div>
  );
}
