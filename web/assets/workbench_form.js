// The workbench's command forms (workbench.js has the helpers): each command's form built from
// its option schema (GET /api/commands: uniem's commands, then the lab's tools), the steps editor
// of `filter`, the checks as it is filled in (POST api/jobs/check), the form as a command line,
// Save and Load parameters (a job file), and Run.

// ---- the command forms --------------------------------------------------------------------------
// The commands, and the workspace's tools (read again every 10 s and when the view is shown: a
// manifest put into tools/ appears without reloading the page). The form shown stays as it is.
let commandsLoading = null;
async function loadCommands() {
  if (commandsLoading) return commandsLoading;
  commandsLoading = (async () => {
    const answer = await api('api/commands');
    const key = JSON.stringify(answer);
    if (key === state.commandsKey) return;
    state.commandsKey = key;
    state.commands = answer.commands;
    state.toolProblems = answer.tool_problems || [];
    drawPicker();
    drawToolProblems();
    const shown = state.command && state.commands.find((c) => c.command === state.command.command);
    if (shown) {
      $('command').value = shown.command;
      return;
    }
    const gone = state.command && state.command.command;
    const wanted = route().command || localStorage.getItem('uniem-workbench-command');
    $('command').value = state.commands.some((c) => c.command === wanted) ? wanted : state.commands[0].command;
    showCommand($('command').value);
    if (gone) {
      say('run-message', `The tool ${gone.slice(5)} is no longer in the workspace's tools/ folder (or its file has a mistake, ` +
        'named above), so its form was closed.', 'error');
    }
  })();
  try { await commandsLoading; } finally { commandsLoading = null; }
}

// A command in a sentence: "tool:nlmeans" -> "the tool nlmeans", uniem's own as they are.
function commandTitle(command) {
  return command.startsWith('tool:') ? `the tool ${command.slice(5)}` : command;
}

// uniem's commands, then the lab's tools in a group of their own (or a word on how to add one).
function drawPicker() {
  const option = (c) => el('option', { value: c.command,
    text: `${c.tool ? c.command.slice(5) : c.command}: ${c.summary || '(no summary in its manifest)'}` });
  const tools = state.commands.filter((c) => c.tool);
  $('command').replaceChildren(
    el('optgroup', { label: "uniem's commands" }, ...state.commands.filter((c) => !c.tool).map(option)),
    el('optgroup', { label: "Your lab's tools (tools/ folder)" }, ...(tools.length ? tools.map(option) : [
      el('option', { value: '', disabled: true,
        text: "none yet: describe a program of yours in a JSON file in the workspace's tools/ folder (see the README)" })])));
}

// Manifests in tools/ that could not be read, each with its file and what is wrong in it.
function drawToolProblems() {
  const box = $('tool-problems');
  const problems = state.toolProblems || [];
  box.hidden = problems.length === 0;
  const w = state.workspace.replace(/\/$/, '');
  box.replaceChildren(
    el('p', { text: problems.length === 1 ? "A tool in the workspace's tools/ folder could not be read; fix its file and it appears in the list:"
      : "Some tools in the workspace's tools/ folder could not be read; fix their files and they appear in the list:" }),
    el('ul', {}, ...problems.map((p) => el('li', { text: w ? p.split(`${w}/`).join('') : p }))));
}

function showCommand(name) {
  const c = state.commands.find((x) => x.command === name);
  state.command = c;
  try { localStorage.setItem('uniem-workbench-command', name); } catch { /* private mode */ }
  const summary = c.summary || commandTitle(c.command);
  $('command-summary').textContent = summary.charAt(0).toUpperCase() + summary.slice(1) + '.';
  const [first, ...rest] = (c.description || '').split(/\n\s*\n/);
  $('command-description').replaceChildren(...helpText(first));
  $('command-full').replaceChildren(...(rest.length ? helpText(rest.join('\n\n')) : [el('p', { text: 'Nothing more to say about it.' })]));
  if (c.tool) {
    const name = c.command.slice(5);
    $('command-example-title').textContent = `Your lab's tool, described in tools/${name}.json. A job runs it as (paths made absolute: ` +
      "inputs in the workspace, outputs in the job's run folder):";
    const positionals = c.arguments.filter((a) => a.kind === 'positional').map((a) => a.name.toUpperCase());
    $('command-example').textContent = [...(c.program || []), ...positionals].join(' ');
  } else {
    $('command-example-title').textContent = 'On the command line, for example:';
    $('command-example').textContent = c.example || '';
  }
  $('command-more').open = false;
  state.steps = [];
  buildForm(c);
  Object.assign(checks, { touched: false, again: false, answer: null });  // a new form is not checked before its first edit
  clearProblem();
  formChanged({ check: false });
  say('run-message', '');
}

function buildForm(c) {
  const basic = [], advanced = [], steps = [];
  for (const a of c.arguments) {
    if (a.level === 'common') continue;
    if (a.kind === 'step') steps.push(a);
    else if (a.level === 'advanced') advanced.push(a);
    else basic.push(a);
  }
  state.fields = [];
  state.stepBox = null;
  const holder = $('fields');
  holder.replaceChildren();
  const positionals = basic.filter((a) => a.kind === 'positional' || a.required);  // what must be filled in, first
  for (const a of positionals) holder.append(field(a));
  if (steps.length) holder.append(stepEditor(steps), filterPreview());
  for (const a of basic.filter((x) => x.kind !== 'positional' && !x.required)) holder.append(field(a));
  if (advanced.length) {
    const more = el('details', { class: 'more', id: 'more-options' },
      el('summary', { text: `More options (${advanced.length})`, title: 'options most jobs leave at their defaults' }));
    for (const a of advanced) more.append(field(a));
    holder.append(more);
  }
}

function field(a) {
  const id = `field-${a.name}`;
  const required = Boolean(a.required);
  let input;
  if (a.type === 'flag') {
    input = el('input', { type: 'checkbox', id });
  } else if (a.type === 'choice') {
    input = el('select', { id });
    if (a.default === undefined || !a.choices.includes(a.default)) {
      input.append(el('option', { value: '', text: a.default === undefined ? '(not set: the command decides)' : `(default: ${a.default})` }));
    }
    for (const choice of a.choices) input.append(el('option', { value: choice, text: choice === a.default ? `${choice} (default)` : choice }));
    input.value = a.choices.includes(a.default) ? a.default : '';
  } else if (a.type === 'integer' || a.type === 'number') {
    input = el('input', { type: 'number', id, step: a.type === 'integer' ? '1' : 'any', inputmode: a.type === 'integer' ? 'numeric' : 'decimal' });
    if (a.min !== undefined) input.min = a.min;
    if (a.max !== undefined) input.max = a.max;
    if (a.default !== undefined) input.value = a.default;
    else input.placeholder = 'not set';
  } else {
    input = el('input', { type: 'text', id, spellcheck: false });
    if (a.role === 'input') input.setAttribute('list', 'workspace-paths');  // the Data page's paths
    input.placeholder = a.default !== undefined ? a.default
      : a.role === 'input' ? 'a path in the workspace' : a.role === 'output' ? 'a name for the output' : a.value || '';
  }
  const where = a.role === 'input' ? 'Read from the workspace.' : a.role === 'output' ? "Written into this job's run folder." : '';
  const limits = [];
  if (a.min !== undefined && a.max !== undefined) limits.push(`${number(a.min)} to ${number(a.max)}`);
  else if (a.min !== undefined) limits.push(`at least ${number(a.min)}`);
  else if (a.max !== undefined) limits.push(`at most ${number(a.max)}`);
  if (a.default !== undefined && a.type !== 'choice') limits.push(`default ${a.default}`);
  const help = el('div', { class: 'help' }, sentence(a.help), where ? ` ${where}` : '',
    limits.length ? el('span', { class: 'limits', text: ` (${limits.join('; ')})` }) : '');
  const box = el('div', { class: `field ${a.type}`, 'data-field': a.name });
  if (a.type === 'flag') {
    box.append(el('label', { class: 'check', for: id }, input, ` ${a.name}`), help);
  } else {
    const label = el('label', { for: id, text: a.name });
    if (required) label.append(' ', el('span', { class: 'required', text: 'required', title: 'the command needs it' }));
    box.append(label, el('div', { class: 'input-row' }, input, a.unit ? el('span', { class: 'unit', text: a.unit }) : null), help);
  }
  const entry = { arg: a, element: input, box, touched: false };
  const changed = () => { entry.touched = true; formChanged(); };
  input.addEventListener('input', changed);
  input.addEventListener('change', changed);
  state.fields.push(entry);
  return box;
}

function sentence(text) {
  const t = (text || '').trim();
  if (!t) return '';
  return t + (/[.!?]$/.test(t) ? '' : '.');  // uniem's words as they are: 'unet, resnet...' stays lower case
}

// The steps of `filter`: an ordered list, each one option with its value.
function stepEditor(steps) {
  const list = el('ol', { id: 'step-list', class: 'step-list' });
  const pick = el('select', { id: 'step-name', title: 'the step to add' },
    ...steps.map((s) => el('option', { value: s.name, text: s.type === 'flag' ? s.name : `${s.name} (${s.value || 'value'})` })));
  const value = el('input', { id: 'step-value', type: 'text', spellcheck: false, title: "the step's value" });
  const help = el('div', { id: 'step-help', class: 'help' });
  const problem = el('div', { id: 'step-problem', class: 'message error' });
  const add = el('button', { id: 'step-add', type: 'button', text: 'Add step', title: 'append this step to the list' });
  const specOf = (name) => steps.find((s) => s.name === name);
  const describeStep = () => {
    const s = specOf(pick.value);
    const needs = s.type !== 'flag';
    value.disabled = !needs;
    value.placeholder = needs ? s.value || 'value' : 'no value needed';
    if (!needs) value.value = '';
    help.textContent = `${sentence(s.help)}${s.unit ? ` Value in ${s.unit}.` : ''}`;
    problem.textContent = '';
  };
  const addStep = () => {
    const s = specOf(pick.value);
    const v = value.value.trim();
    if (s.type !== 'flag' && !v) {
      problem.textContent = `${s.name} needs a value (${s.value || 'a value'}): type it in the box, then press Add step.`;
      value.focus();
      return;
    }
    state.steps.push({ name: s.name, value: s.type === 'flag' ? true : v, type: s.type });
    value.value = '';
    problem.textContent = '';
    drawSteps();
    formChanged();
  };
  pick.addEventListener('change', describeStep);
  value.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); addStep(); } });
  value.addEventListener('input', () => { problem.textContent = ''; });
  add.addEventListener('click', addStep);
  describeStep();
  const box = el('fieldset', { class: 'steps', 'data-field': 'steps' },
    el('legend', { text: 'Steps, applied in the order given' }),
    el('div', { class: 'help', text: 'Each step works on the result of the one before it.' }),
    list,
    el('div', { class: 'step-add' }, pick, value, add),
    help, problem);
  state.stepBox = box;
  drawSteps();
  return box;
}

function drawSteps() {
  const list = $('step-list');
  if (!list) return;
  if (!state.steps.length) {
    list.replaceChildren(el('li', { class: 'empty', text: 'No steps yet: pick one below, type its value and press Add step.' }));
    return;
  }
  list.replaceChildren(...state.steps.map((s, i) => el('li', {},
    el('span', { class: 'step-text' }, el('b', { text: s.name }), s.value === true ? '' : ` ${s.value}`),
    i > 0 ? el('button', { type: 'button', class: 'small', text: 'Up', title: 'run this step one earlier',
      onclick: () => { [state.steps[i - 1], state.steps[i]] = [state.steps[i], state.steps[i - 1]]; drawSteps(); formChanged(); } }) : null,
    el('button', { type: 'button', class: 'small', text: 'Remove', title: 'take this step out of the list',
      onclick: () => { state.steps.splice(i, 1); drawSteps(); formChanged(); } }))));
}

// The arguments the user gave: fields left empty or at their default are not sent. The problems
// seen without asking the server: {box, kind (number, required, pending), text}.
function collect() {
  const args = {}, problems = [];
  for (const { arg: a, element, box } of state.fields) {
    if (a.type === 'flag') {
      if (element.checked) args[a.name] = true;
      continue;
    }
    if (a.type === 'integer' || a.type === 'number') {
      if (element.validity.badInput) {
        problems.push({ box, kind: 'number', text: `"${a.name}" takes a number` });
        continue;
      }
      const text = element.value.trim();
      if (!text) continue;
      const n = Number(text);
      if (a.default !== undefined && Number(a.default) === n) continue;
      args[a.name] = n;
      continue;
    }
    const text = element.value.trim();
    if (!text) {
      if (a.required) problems.push({ box, kind: 'required', text: `fill in "${a.name}" (${a.help}): it is required` });
      continue;
    }
    if (a.default !== undefined && text === a.default) continue;
    args[a.name] = text;
  }
  if (state.steps.length) {
    args.steps = state.steps.map((s) => ({ [s.name]: s.type === 'integer' && /^-?\d+$/.test(s.value) ? Number(s.value) : s.value }));
  }
  const pending = $('step-value');
  if (pending && pending.value.trim()) {
    problems.push({ box: state.stepBox, kind: 'pending',
      text: `you typed "${pending.value.trim()}" for ${$('step-name').value} but did not press Add step: press it, or clear the box` });
  }
  return { args, problems };
}

// ---- checks as the form is filled in -------------------------------------------------------------
// From the first edit on, the job the form would submit is checked by the server (POST
// api/jobs/check, as `uniem run --check` does) 400 ms after the typing stops: one check at a time,
// only the answer about the form as it is shown. A refusal goes under the first field it names.
// Run uses that answer when it is about the form as it is; the server checks again on submission.
// answer: {key, ok, message, fields}; refusal: the "Not run" said by Run, cleared once the form passes.
const checks = { touched: false, timer: 0, busy: false, again: false, answer: null, refusal: '' };

// What the form would submit, as a key: an answer is about the form as it is when their keys match
// (a field left without a change, as a blur, changes nothing).
function jobKey(args) {
  return JSON.stringify([state.command.command, args]);
}

// Called on every change of the form: the command line follows, and a check is planned.
function formChanged({ check = true } = {}) {
  drawCommandLine();
  previewChanged();
  clearTimeout(checks.timer);
  if (!check) return;
  checks.touched = true;
  checks.timer = setTimeout(checkForm, 400);
}

async function checkForm() {
  if (!checks.touched || !state.command) return;
  if (checks.busy) { checks.again = true; return; }
  const { args, problems } = collect();
  const key = jobKey(args);
  const number = problems.find((p) => p.kind === 'number');  // the browser knows it is no number
  if (number) {
    checks.answer = null;
    showProblem({ message: number.text, box: number.box }, false);
    return;
  }
  checks.busy = true;
  try {
    const r = await api('api/jobs/check', { job: { command: state.command.command, arguments: args } });
    if (!state.command || key !== jobKey(collect().args)) return;  // the form changed meanwhile: a newer check follows
    checks.answer = { key, ok: r.ok, message: r.message || '', fields: r.fields || [] };
    if (r.ok) {
      clearProblem();
      if (checks.refusal && $('run-message').textContent === checks.refusal) say('run-message', '');  // no longer holds
    } else {
      showProblem(checks.answer, false);
    }
  } catch {
    // No answer: the connection indicator and the job list say so; Run asks the server again.
  } finally {
    checks.busy = false;
    if (checks.again) { checks.again = false; checkForm(); }
  }
}

// The fields a message names, as the server finds them: 'in' (a positional), --steps (an option).
function fieldsNamed(message) {
  return [...message.matchAll(/'([a-z][a-z0-9_-]*)'|--([a-z][a-z0-9-]*)/g)].map((m) => m[1] || m[2]);
}

function clearProblem() {
  $('field-problem')?.remove();
  for (const { box } of state.fields) box.classList.remove('bad');
  state.stepBox?.classList.remove('bad');
  $('check-message').textContent = '';
}

// A refusal {message, fields or box}: under the first field it names that the form has (its
// "More options" opened), in red with the field outlined; else in the Run row. While typing, a
// field not touched yet and still empty gets a quieter note (it is next to be filled in, not wrong);
// after Run, everything is red and the field scrolled into sight.
function showProblem({ message, fields, box }, run) {
  clearProblem();
  let target = box || null;
  for (const name of fields && fields.length ? fields : fieldsNamed(message)) {
    if (target) break;
    const f = state.fields.find((x) => x.arg.name === name);
    if (f) target = f.box;
    else if (state.stepBox && (name === 'steps' || state.command.arguments.some((a) => a.kind === 'step' && a.name === name))) target = state.stepBox;
  }
  // Under the field, the command's name before the message and the pointer to --help say nothing more.
  const prefix = `${state.command.command}: `;
  const text = (message.startsWith(prefix) ? message.slice(prefix.length) : message).replace(/ \(see uniem [^()]*--help\)/, '');
  if (!target) {
    $('check-message').textContent = text;
    return;
  }
  const entry = state.fields.find((x) => x.box === target);
  const empty = entry && (entry.arg.type === 'flag' ? !entry.element.checked : !entry.element.value.trim());
  const quiet = !run && entry && !entry.touched && empty;
  const note = el('div', { id: 'field-problem', class: `field-problem${quiet ? ' quiet' : ''}`, role: 'status', text });
  const after = target.querySelector(':scope > .input-row, :scope > label.check, :scope > .step-add');
  if (after) after.after(note);
  else target.append(note);
  if (!quiet) target.classList.add('bad');
  const more = target.closest('details');
  if (more) more.open = true;
  if (run) target.scrollIntoView({ block: 'center' });
}

// ---- the form as a command line, and as a file ---------------------------------------------------
// One word for the shell: as it is when it is safe, else in single quotes.
function shellWord(value) {
  const v = String(value);
  return /^[\w@%+=:,./-]+$/.test(v) ? v : `'${v.replace(/'/g, "'\\''")}'`;
}

// What `uniem COMMAND ...` does what the form would: positionals in their order, then the options
// changed from their defaults (--name value), switches (--name) and the steps in their order. A
// required value not filled in yet shows as its placeholder (IN, STACK).
function commandLine(c, args) {
  const words = ['uniem', ...c.command.split(' ')];
  const placeholder = (a) => a.value || a.name.toUpperCase();
  for (const a of c.arguments.filter((x) => x.kind === 'positional')) {
    words.push(a.name in args ? shellWord(args[a.name]) : placeholder(a));
  }
  for (const a of c.arguments) {
    if (a.kind === 'positional' || a.kind === 'step' || a.level === 'common') continue;
    if (!(a.name in args)) {
      if (a.required) words.push(`--${a.name}`, placeholder(a));
      continue;
    }
    const v = args[a.name];
    if (v === true) words.push(`--${a.name}`);
    else words.push(`--${a.name}`, shellWord(Array.isArray(v) ? v.join(',') : v));
  }
  for (const step of Array.isArray(args.steps) ? args.steps : []) {
    for (const [name, v] of Object.entries(step)) words.push(...(v === true ? [`--${name}`] : [`--${name}`, shellWord(v)]));
  }
  return words.join(' ');
}

// The file "Save parameters" writes: train2d-parameters.json, ffn-segment-parameters.json.
function parametersFile(command) {
  return `${command.replace(/^tool:/, '').replace(/[^\w.-]+/g, '-')}-parameters.json`;
}

function drawCommandLine() {
  const c = state.command;
  if (!c) return;
  const line = $('command-line');
  if (c.tool) {
    line.textContent = `uniem run ${parametersFile(c.command)}`;
    $('command-line-note').textContent = `${c.command.slice(5)} is your lab's own program, not a uniem command: save ` +
      `its parameters (Parameters: Save, below), put the file into the workspace folder and type this there.`;
  } else {
    line.textContent = commandLine(c, collect().args);
    $('command-line-note').textContent = 'Paths are relative to the workspace folder: type it in that folder.';
  }
  $('copy-said').textContent = '';
}

async function copyCommand() {
  const said = $('copy-said');
  try {
    if (!navigator.clipboard) throw new Error('no clipboard here');
    await navigator.clipboard.writeText($('command-line').textContent);
    said.textContent = 'copied';
  } catch {
    // Pages served over plain http on the network get no clipboard: the text is selected instead.
    const range = document.createRange();
    range.selectNodeContents($('command-line'));
    getSelection().removeAllRanges();
    getSelection().addRange(range);
    said.textContent = 'selected: press Ctrl+C to copy it';
  }
}

// Save parameters: the job as a file `uniem run` reads, and Load parameters reads back.
function saveParameters() {
  const { args, problems } = collect();
  const job = { command: state.command.command, arguments: args };
  const name = $('job-name').value.trim();
  if (name) job.name = name;
  const file = parametersFile(job.command);
  const link = el('a', { href: URL.createObjectURL(new Blob([`${JSON.stringify(job, null, 2)}\n`], { type: 'application/json' })), download: file });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  const left = problems.filter((p) => p.kind === 'number').map((p) => p.text);
  say('run-message', `Saved as ${file} (in your browser's downloads). Parameters: Load fills the form from it again; ` +
    `uniem run ${file} runs it on the command line.${left.length ? ` Left out: ${left.join('; ')}.` : ''}`, left.length ? 'error' : 'info');
}

// What is wrong with a job file for the form, or '' when nothing is.
function parametersProblem(job) {
  const shape = 'a uniem job holds {"command": "train2d", "arguments": {...}}, as Parameters: Save writes it';
  if (!job || typeof job !== 'object' || Array.isArray(job)) return `this file is not a uniem job: ${shape}`;
  if (Array.isArray(job.pipeline)) {
    return `this file is a pipeline of ${job.pipeline.length} commands (${job.pipeline.map((s) => s && s.command).join(', ')}); ` +
      'a form holds one command. Run it on the command line with uniem run FILE';
  }
  if (typeof job.command !== 'string') return `this file is not a uniem job: it names no "command" (${shape})`;
  if (job.arguments !== undefined && (!job.arguments || typeof job.arguments !== 'object' || Array.isArray(job.arguments))) {
    return `this file is not a uniem job: its "arguments" are not a list of names and values (${shape})`;
  }
  if (!state.commands.some((c) => c.command === job.command)) {
    return job.command.startsWith('tool:')
      ? `it is for your lab's tool ${job.command.slice(5)}, which is not in this workspace's tools/ folder (copy its tools/${job.command.slice(5)}.json here)`
      : `this file is not a uniem job: it names the command "${job.command}", which uniem does not have`;
  }
  return '';
}

async function loadParameters(file) {
  let job;
  try {
    job = JSON.parse(await file.text());
  } catch (e) {
    say('run-message', `Not loaded: ${file.name}: this file is not a uniem job: it is not JSON (${e.message}).`, 'error');
    return;
  }
  const problem = parametersProblem(job);
  if (problem) {
    say('run-message', `Not loaded: ${file.name}: ${problem}.`, 'error');
    return;
  }
  const { ignored } = fillForm(job);
  $('run-panel').scrollTop = 0;
  say('run-message', `Loaded ${file.name}: the ${commandTitle(job.command)} form holds its parameters` +
    `${ignored.length ? `, except ${ignored.join('; ')}` : ''}. Check them and press Run.`, ignored.length ? 'error' : 'info');
}

// The form of job.command filled with job.arguments (and job.name); returns {ignored: what it
// could not hold}. "Edit and run again" and Load parameters both fill the form with it.
function fillForm(job) {
  $('command').value = job.command;
  showCommand(job.command);
  const ignored = [];
  for (const [k, v] of Object.entries(job.arguments || {})) {
    if (k === 'steps' && Array.isArray(v) && state.stepBox) {
      state.steps = v.filter((step) => step && typeof step === 'object').map((step) => {
        const [name, value] = Object.entries(step)[0] || ['', ''];
        const spec = state.command.arguments.find((a) => a.kind === 'step' && a.name === name);
        return { name, value: value === true ? true : String(value), type: spec ? spec.type : 'text' };
      });
      drawSteps();
      continue;
    }
    const f = state.fields.find((x) => x.arg.name === k);
    if (!f) {
      ignored.push(`"${k}" (${job.command} has no such option here)`);
      continue;
    }
    const text = Array.isArray(v) ? v.join(',') : String(v);
    if (f.arg.type === 'flag') f.element.checked = v === true;
    else {
      if (f.arg.type === 'choice' && ![...f.element.options].some((o) => o.value === text)) {
        f.element.append(el('option', { value: text, text: `${text} (not one of its choices)` }));
      }
      f.element.value = text;
      if (f.element.value !== text && !(f.element.type === 'number' && Number(f.element.value) === Number(text))) {
        ignored.push(`"${k}": ${text} is not a number`);
        continue;
      }
    }
    f.touched = true;
    const more = f.box.closest('details');
    if (more) more.open = true;
  }
  $('job-name').value = typeof job.name === 'string' && job.name !== job.command ? job.name : '';
  formChanged();  // checked at once: a path of another workspace, say, is named before Run
  return { ignored };
}

// ---- Run ----------------------------------------------------------------------------------------
function refuse(text) {
  say('run-message', text, 'error');
  checks.refusal = text;
}

async function submit(event) {
  event.preventDefault();
  clearTimeout(checks.timer);
  checks.touched = true;
  const { args, problems } = collect();
  if (problems.length) {
    showProblem({ message: problems[0].text, box: problems[0].box }, true);
    for (const p of problems) p.box?.classList.add('bad');
    refuse(`Not run: ${problems.map((p) => p.text).join('; ')}.`);
    return;
  }
  const known = checks.answer;
  if (known && known.key === jobKey(args) && !known.ok) {
    showProblem(known, true);
    refuse(`Not run: ${known.message}`);
    return;
  }
  clearProblem();
  const body = { job: { command: state.command.command, arguments: args } };
  const name = $('job-name').value.trim();
  if (name) body.name = name;
  const user = $('user-name').value.trim();
  if (user) body.user = user;
  const button = $('run');
  button.disabled = true;
  say('run-message', 'Checking the job...', 'busy');
  try {
    const r = await api('api/jobs', body);
    const running = state.jobs.find((j) => j.state === 'running');
    say('run-message', `Job ${r.id} queued ("${r.name}")${running ? `: it starts when job ${running.id} has finished` : ''}. ` +
      'Follow it in the Jobs list.', 'ok');
    await refreshJobs();
    select(r.id);
  } catch (e) {
    refuse(`Not run: ${e.message}`);
    if (e.status === 400) showProblem({ message: e.message }, true);
  } finally {
    button.disabled = false;
  }
}

function resetForm() {
  showCommand(state.command.command);
  $('job-name').value = '';
  say('run-message', 'The form is back to its defaults.', 'info');
}

// The form's buttons beside Run, and the name that goes with each job (kept in this browser).
function setupForm() {
  $('run-form').addEventListener('submit', submit);
  $('reset').addEventListener('click', resetForm);
  $('copy-command').addEventListener('click', copyCommand);
  $('save-parameters').addEventListener('click', saveParameters);
  $('load-parameters').addEventListener('click', () => $('load-file').click());
  $('load-file').addEventListener('change', async (e) => {
    const file = e.target.files[0];
    e.target.value = '';  // the same file again is a change too
    if (file) await loadParameters(file);
  });
  const user = $('user-name');
  try { user.value = localStorage.getItem('uniem-workbench-user') || ''; } catch { /* private mode */ }
  user.addEventListener('input', () => {
    try { localStorage.setItem('uniem-workbench-user', user.value.trim()); } catch { /* private mode */ }
  });
}
