/** The web UI's stylesheet (served as /ui/app.css; no external font or resource). */
export const UI_CSS = `
:root{--fg:#1d2330;--muted:#5b6475;--line:#dfe3ea;--bg:#fff;--soft:#f4f5f7;--accent:#2c5bd6;--ok:#1f7a3f;--bad:#a1262b;--warn:#8a5a00;--run:#1b6fa8}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:var(--fg);background:var(--bg)}
nav{display:flex;align-items:center;gap:1rem;padding:.55rem 1.2rem;background:#18202f;color:#d6dbe6}
nav a{color:#d6dbe6;text-decoration:none}nav a[aria-current=page]{color:#fff;font-weight:600;border-bottom:2px solid #7aa2ff}
nav .brand{font-weight:700;color:#fff;letter-spacing:.02em}nav .grow{flex:1}nav .ws b{color:#fff}
nav button{background:transparent;color:#d6dbe6;border:1px solid #4a556b;padding:.2rem .6rem}
main{max-width:1280px;margin:0 auto;padding:1rem 1.2rem 3rem}
h1{font-size:1.35rem;margin:.4rem 0}h2{font-size:1.02rem;margin:1.2rem 0 .5rem}
a{color:var(--accent)}code,pre,.code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12.5px}
pre{background:var(--soft);padding:.6rem .75rem;border-radius:4px;overflow:auto;margin:0}
pre.logs{max-height:22rem;background:#111723;color:#d8dee9;white-space:pre-wrap}
pre.json{max-height:26rem}
.muted{color:var(--muted)}.error{color:var(--bad);font-weight:600}.summary{font-size:1.02rem;margin:.2rem 0}
.inline{display:inline}
button,.button{font:inherit;padding:.35rem .8rem;border:1px solid var(--line);border-radius:4px;background:#fff;color:var(--fg);cursor:pointer;text-decoration:none;display:inline-block}
button:hover,.button:hover{border-color:#aab3c5}button.primary{background:var(--accent);border-color:var(--accent);color:#fff}
button:disabled{opacity:.55;cursor:not-allowed}
input[type=text],input[type=search],input[type=password],input[type=number],input[type=email],input[type=date],input[type=datetime-local],select,textarea{font:inherit;padding:.35rem .45rem;border:1px solid var(--line);border-radius:4px;background:#fff;max-width:100%}
textarea{width:100%;font-family:ui-monospace,monospace;font-size:12.5px}
.pagehead{border-bottom:1px solid var(--line);padding-bottom:.6rem;margin-bottom:.8rem}
.pagehead .actions{display:flex;gap:.5rem;margin-top:.4rem}
.search{display:flex;gap:.5rem;margin:.6rem 0}.search input{flex:1;padding:.5rem .6rem}
.folder h2{color:var(--muted);font-weight:600;font-size:.92rem;text-transform:none;border-bottom:1px solid var(--line);padding-bottom:.2rem}
table{border-collapse:collapse;width:100%}th{text-align:left;color:var(--muted);font-weight:600;font-size:.85rem}
td,th{padding:.3rem .5rem;border-bottom:1px solid #eef0f4;vertical-align:top}
table.items{table-layout:fixed}table.items td.kind{width:7.5rem}table.items td.path{width:24rem;font-family:ui-monospace,monospace;font-size:12.5px;overflow-wrap:anywhere}table.items td.what{width:9rem;text-align:right}
.tag{display:inline-block;padding:0 .45rem;border-radius:9px;font-size:.78rem;background:#e9edf5;color:#34405a}
.tag.script{background:#e3edff;color:#1f4fb8}.tag.flow{background:#e6f6ec;color:#1f7a3f}.tag.schedule{background:#fff2d6;color:#8a5a00}
.tag.app{background:#f1e7ff;color:#6b2fb8}.tag.draft{background:#fde8e8;color:#a1262b}.tag.current{background:#e6f6ec;color:#1f7a3f}
.badge{display:inline-block;padding:.05rem .5rem;border-radius:4px;font-size:.78rem;font-weight:600;background:#e9edf5;color:#34405a}
.badge.success{background:#dff3e6;color:var(--ok)}.badge.failure{background:#fbe3e4;color:var(--bad)}.badge.running,.badge.inprogress{background:#e0eefa;color:var(--run)}
.badge.queued,.badge.waiting,.badge.waitingforpriorsteps{background:#eef0f4;color:var(--muted)}.badge.canceled{background:#f4ecdf;color:var(--warn)}
.badge.suspended,.badge.waitingforevents{background:#fff2d6;color:var(--warn)}
.cols{display:grid;grid-template-columns:minmax(0,5fr) minmax(0,7fr);gap:1.4rem}
@media (max-width:900px){.cols{grid-template-columns:1fr}}
.field{margin:.55rem 0}.field label{display:block;margin-bottom:.15rem}.argname{font-weight:600;font-family:ui-monospace,monospace}
.argtype{color:var(--muted);font-size:.8rem}.req{color:var(--bad);margin-left:.1rem}.help{display:block;color:var(--muted);font-size:.82rem}
.field input[type=text],.field input[type=number],.field input[type=email],.field select{width:100%}
.buttons{margin-top:.7rem}
.cm-editor{border:1px solid var(--line);border-radius:4px;font-size:12.5px}.cm-editor.cm-focused{outline:2px solid #b9cbf7}
#code .cm-editor,#code.cm-host .cm-editor{max-height:32rem}
.editor .cm-editor{min-height:18rem;max-height:70vh}.cm-scroller{overflow:auto}
.editor-bar{display:flex;align-items:center;gap:.8rem;margin:.5rem 0}.editor-bar .grow{flex:1}
.warning{background:#fff6e0;border:1px solid #f0cf7a;padding:.6rem .8rem;border-radius:4px;margin:.6rem 0}
.warning p{margin:.1rem 0 .5rem;font-weight:600;color:#6d4800}
.deploybox{max-width:42rem}.deploybox label{display:block;margin-top:.5rem;font-weight:600}.deploybox input{width:100%}
table.history td.msg{max-width:26rem}.rowactions{white-space:nowrap}
table.diff{font-family:ui-monospace,monospace;font-size:12.5px;border:1px solid var(--line)}
table.diff td{border:0;padding:0 .4rem;white-space:pre-wrap}table.diff td.ln{color:#8a93a5;text-align:right;width:3rem;user-select:none}
table.diff td.op{width:1rem;color:#8a93a5}table.diff tr.add{background:#e6f6ec}table.diff tr.del{background:#fbe9ea}
table.diff tr.fold td{color:var(--muted);background:var(--soft);padding:.1rem .5rem}
.add-label{color:var(--ok);font-weight:600}.del-label{color:var(--bad);font-weight:600}
.filters{display:flex;flex-wrap:wrap;gap:.7rem;align-items:flex-end;margin:.5rem 0 1rem}.filters label{display:flex;flex-direction:column;font-size:.85rem;color:var(--muted)}
.result-table{margin-bottom:.6rem;font-size:.9rem}.result-table td{font-family:ui-monospace,monospace;font-size:12px}
.jobhead{margin:.3rem 0 .6rem}
.approval{border:1px solid #f0cf7a;background:#fffaf0;padding:.5rem 1rem;border-radius:4px}
.approval .approve{background:var(--ok);border-color:var(--ok);color:#fff}.approval .reject{background:var(--bad);border-color:var(--bad);color:#fff}
.approval .field label{font-weight:600}
.flowgraph{display:flex;flex-direction:column;align-items:center;gap:0;padding:.5rem 0}
.steps{display:flex;flex-direction:column;align-items:center;width:100%}
.node{border:1px solid #c8cfdb;border-radius:6px;background:#fff;padding:.35rem .7rem;min-width:14rem;max-width:100%;box-shadow:0 1px 0 #e6e9ef}
.node.terminal{min-width:6rem;text-align:center;background:var(--soft);color:var(--muted);border-radius:14px}
.node-id{font-weight:700;font-family:ui-monospace,monospace}.node-kind{color:var(--muted);font-size:.85rem}
.node-summary{font-size:.88rem}.node-note{font-size:.8rem;color:var(--muted)}
.node.success{border-color:#7cc596;background:#f3fbf6}.node.failure{border-color:#e39a9d;background:#fdf3f3}
.node.running{border-color:#7fb3de;background:#f2f8fd}.node.suspended{border-color:#f0cf7a;background:#fffaf0}
.node.loop,.node.branch{background:#fafbfc}.loop-body{border-left:3px solid #c8cfdb;margin:.4rem 0 .2rem .3rem;padding-left:.6rem}
.branches{display:flex;gap:.6rem;margin-top:.4rem;align-items:flex-start}.branch-col{flex:1;border:1px dashed #c8cfdb;border-radius:6px;padding:.3rem}
.branch-label{font-size:.78rem;color:var(--muted);margin-bottom:.3rem;font-family:ui-monospace,monospace}
.edge{color:#9aa3b5;line-height:1.1;padding:.1rem 0}
.failure{margin-top:1rem;border-top:1px dashed #e39a9d;padding-top:.5rem;display:flex;flex-direction:column;align-items:center}
.failure-label{color:var(--bad);font-size:.82rem;font-weight:600}
.steplog summary{cursor:pointer;margin:.3rem 0}
.login{max-width:26rem;margin:4rem auto}.login input{width:100%;margin:.3rem 0 .8rem;padding:.5rem}
ul.plain{list-style:none;padding:0}ul.plain li{margin:.2rem 0}
.switch{display:inline-flex;gap:.3rem;align-items:center}
tr.hidden{display:none}
.wsswitch{position:relative}.wsswitch summary{cursor:pointer;list-style:none}.wsmenu{position:absolute;right:0;top:1.6rem;background:#18202f;border:1px solid #4a556b;border-radius:4px;padding:.3rem .6rem;display:flex;flex-direction:column;gap:.2rem;z-index:5;min-width:8rem}section.folder.hidden{display:none}
`;
