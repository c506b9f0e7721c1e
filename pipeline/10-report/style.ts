import { FONT_STACK } from './charts.ts';

/** The report page's inline stylesheet: screen layout, the Chinese font stack, and the print rules for A4. */
export const REPORT_CSS = `
:root{--ink:#111827;--body:#374151;--muted:#6b7280;--line:#e5e7eb;--bg:#f4f6f9;--panel:#fff;--accent:#1d4ed8;--navy:#0f1f3d}
*{box-sizing:border-box;-webkit-print-color-adjust:exact;print-color-adjust:exact}
html{font-size:15px}
body{margin:0;background:var(--bg);color:var(--body);font-family:${FONT_STACK};line-height:1.5}
.wrap{max-width:1240px;margin:0 auto;padding:0 28px}
.masthead{background:linear-gradient(120deg,#0f1f3d 0%,#1e3a6e 100%);color:#e5ecf8;padding:30px 0 26px}
.eyebrow{text-transform:uppercase;letter-spacing:.12em;font-size:.72rem;color:#9fb3d9;font-weight:600}
.masthead h1{margin:.25rem 0 .6rem;font-size:2rem;color:#fff;font-weight:700;letter-spacing:-.01em}
.meta{display:flex;flex-wrap:wrap;gap:6px 22px;margin:0;font-size:.85rem}
.meta span b{color:#fff;font-weight:600;margin-right:6px}
.meta code{color:#fff}
.lang-switch{margin-left:auto;color:#fff;border:1px solid #9fb3d9;border-radius:999px;padding:0 10px;text-decoration:none}
.pill.muted{color:var(--muted);background:#f3f4f6}
ul.not-measurable,ul.dropped{margin:0 0 14px;padding-left:18px;font-size:.85rem}
.lens-table tr.not-measurable td{color:var(--muted);font-style:italic}
.features li.perfect .feat-means{color:var(--ink);font-weight:600}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.86em}
nav.toc{background:#fff;border-bottom:1px solid var(--line);position:sticky;top:0;z-index:2}
nav.toc .wrap{display:flex;flex-wrap:wrap;gap:4px 18px;padding-top:10px;padding-bottom:10px;font-size:.85rem}
nav.toc a{color:var(--body);text-decoration:none}
nav.toc a:hover{color:var(--accent)}
main{padding-bottom:40px}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:14px;margin:24px 0 8px}
.kpi{background:var(--panel);border:1px solid var(--line);border-radius:10px;padding:14px 16px}
.kpi-value{font-size:1.55rem;font-weight:700;color:var(--ink);font-variant-numeric:tabular-nums}
.kpi-label{font-size:.8rem;color:var(--muted);text-transform:uppercase;letter-spacing:.05em}
.kpi-note{font-size:.78rem;color:var(--muted)}
section{margin-top:34px}
h2{font-size:1.3rem;color:var(--ink);margin:0 0 4px;padding-bottom:6px;border-bottom:2px solid var(--ink);display:inline-block}
.lead{margin:6px 0 16px;max-width:880px;color:var(--muted)}
.charts{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:16px}
figure.chart{margin:0;background:var(--panel);border:1px solid var(--line);border-radius:10px;padding:14px 16px 10px;min-width:0}
figure.chart.wide{grid-column:1/-1}
figcaption{display:flex;flex-direction:column;margin-bottom:8px}
.chart-title{font-weight:600;color:var(--ink)}
.chart-caption{font-size:.8rem;color:var(--muted)}
.chart-body{overflow-x:auto}
.chart-body svg{display:block;max-width:100%;height:auto}
.pills{display:flex;flex-wrap:wrap;gap:8px;margin:0 0 14px}
.pill{background:#fff;border:1px solid var(--line);border-radius:999px;padding:3px 12px;font-size:.85rem}
.pill b{color:var(--ink);font-variant-numeric:tabular-nums}
.cards{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:18px}
.segment-card{background:var(--panel);border:1px solid var(--line);border-top:5px solid var(--seg);border-radius:10px;padding:16px 18px;min-width:0}
.card-head{display:flex;gap:12px;align-items:flex-start}
.seg-id{background:var(--seg);color:#fff;font-weight:700;border-radius:8px;padding:4px 9px;font-size:.95rem;flex:none}
.card-names{flex:1;min-width:0}
.card-names h3{margin:0;font-size:1.08rem;color:var(--ink);line-height:1.3}
.alt-name{margin:2px 0 0;color:var(--muted);font-size:.85rem}
.card-size{text-align:right;font-size:.8rem;color:var(--muted);flex:none}
.card-size strong{font-size:1.15rem;color:var(--ink);font-variant-numeric:tabular-nums}
.sharebar{height:5px;background:#eef1f5;border-radius:3px;margin:10px 0 6px;overflow:hidden}
.sharebar span{display:block;height:100%;background:var(--seg)}
.badges{margin:6px 0}
.badge{display:inline-block;font-size:.75rem;font-weight:600;border-radius:999px;padding:2px 10px}
.badge.ok{background:#e7f6ec;color:#1e6b3a}
.badge.warn{background:#fdecea;color:#a12a1f}
.card-cols{display:grid;grid-template-columns:minmax(0,1.05fr) minmax(0,1fr);gap:16px;margin-top:8px}
h4{font-size:.74rem;text-transform:uppercase;letter-spacing:.07em;color:var(--muted);margin:10px 0 6px}
.lens-table{width:100%;border-collapse:collapse;font-size:.82rem}
.lens-table th,.lens-table td{padding:4px 4px;border-bottom:1px solid var(--line);text-align:left}
.lens-table thead th{font-size:.7rem;color:var(--muted);font-weight:600;text-transform:uppercase;letter-spacing:.04em}
.lens-table tbody th{font-weight:500;color:var(--body)}
.num{text-align:right!important;font-variant-numeric:tabular-nums}
.chip{display:inline-block;background:#eef2ff;color:#1e3a8a;border-radius:6px;padding:1px 8px;font-size:.8rem;margin:1px 4px 1px 0;white-space:nowrap}
.chip.muted{background:#f3f4f6;color:var(--muted)}
.chip.module{background:#ecfdf5;color:#065f46}
.chip.channel{background:#fff7ed;color:#9a3412}
.features{list-style:none;margin:0;padding:0;font-size:.82rem}
.features li{margin-bottom:8px}
.feat-head{display:flex;justify-content:space-between;gap:8px}
.feat-name{color:var(--ink)}
.feat-d{font-variant-numeric:tabular-nums;font-weight:600}
.feat-d.up,.feat-name .up{color:#b45309}
.feat-d.down{color:#1d4ed8}
.diverge{position:relative;height:6px;background:#f3f4f6;border-radius:3px;margin:3px 0 2px}
.diverge .axis{position:absolute;left:50%;top:-2px;bottom:-2px;width:1px;background:#9ca3af}
.diverge .bar{position:absolute;top:0;bottom:0;border-radius:3px}
.diverge .bar.up{background:#f59e0b}
.diverge .bar.down{background:#3b82f6}
.feat-means{color:var(--muted);font-size:.75rem}
.playbook{background:#f8fafc;border:1px solid var(--line);border-radius:8px;padding:4px 14px 12px;margin-top:12px}
.playbook dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 14px;margin:0;font-size:.84rem}
.playbook dt{color:var(--muted)}
.playbook dd{margin:0}
.playbook blockquote{margin:10px 0 0;padding:6px 12px;border-left:3px solid var(--seg);background:#fff;font-style:italic;color:var(--ink);font-size:.88rem}
.card-row p{margin:0;font-size:.84rem}
.lost strong{color:#b91c1c}
.lost .of,.rise .of{color:var(--muted);font-size:.78rem}
.rise strong{color:#047857}
.gates{list-style:none;padding:0;margin:8px 0 14px;font-size:.84rem}
.gates li{margin:3px 0}
.gate{display:inline-block;min-width:94px;font-size:.72rem;font-weight:600;text-transform:uppercase;letter-spacing:.04em;border-radius:4px;padding:1px 6px;margin-right:8px;text-align:center}
.gate.pass{background:#e7f6ec;color:#1e6b3a}
.gate.fail{background:#fdecea;color:#a12a1f}
.gate.waived,.gate.not-applicable{background:#f3f4f6;color:var(--muted)}
.rules{margin:0;padding-left:18px;font-size:.82rem;color:var(--ink)}
.rules li{margin-bottom:2px}
.rule-quality{text-transform:none;letter-spacing:0;font-weight:400;margin-left:6px}
.examples{margin:12px 0 0;font-size:.78rem;color:var(--muted)}
.examples span{text-transform:uppercase;letter-spacing:.06em;font-size:.7rem;margin-right:4px}
.examples code{background:#f3f4f6;border-radius:4px;padding:1px 5px;color:var(--ink)}
.data-table{border-collapse:collapse;background:var(--panel);border:1px solid var(--line);border-radius:8px;font-size:.84rem;min-width:420px}
.data-table th,.data-table td{padding:6px 12px;border-bottom:1px solid var(--line);text-align:left}
.data-table thead th{background:#f9fafb;font-size:.74rem;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
.k-table tr.chosen td{background:#eef2ff;font-weight:600;color:var(--ink)}
.k-table tr.ineligible td{color:#9ca3af}
.rule{font-size:.85rem;color:var(--body);margin:12px 0}
.two-col{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:24px;align-items:start}
.exports{list-style:none;padding:0;margin:0;display:grid;grid-template-columns:repeat(auto-fit,minmax(220px,1fr));gap:10px}
.exports li{background:var(--panel);border:1px solid var(--line);border-radius:8px;padding:10px 14px;font-size:.85rem}
.exports a{font-weight:600;color:var(--accent);text-decoration:none;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.exports span{display:block;color:var(--muted);font-size:.8rem}
footer{border-top:1px solid var(--line);color:var(--muted);font-size:.78rem;padding:16px 0 30px}
@media (max-width:900px){.charts,.cards,.card-cols,.two-col{grid-template-columns:1fr}}
@media print{
  @page{size:A4;margin:12mm 11mm}
  html{font-size:10.5pt}
  body{background:#fff}
  nav.toc,.lang-switch{display:none}
  .wrap{max-width:none;padding:0}
  .masthead{padding:14px 12px;border-radius:6px}
  .charts,.cards{display:block}
  figure.chart,.segment-card,.kpi,.data-table,.playbook{break-inside:avoid;page-break-inside:avoid}
  figure.chart,.segment-card{margin-bottom:10px;border-color:#d1d5db}
  .chart-body{overflow:visible}
  section{margin-top:18px}
  h2{break-after:avoid;page-break-after:avoid}
  #segments{break-before:page;page-break-before:always}
  a{color:inherit;text-decoration:none}
}
`;
