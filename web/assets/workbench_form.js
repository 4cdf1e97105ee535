// The workbench's command forms (workbench.js has the helpers): each command's form built from
// its option schema (GET /api/commands), the steps editor of `filter`, and Run.

// ---- the command forms --------------------------------------------------------------------------
async function loadCommands() {
  const { commands } = await api('api/commands');
  state.commands = commands;
  const select = $('command');
  select.replaceChildren(...commands.map((c) =>
    el('option', { value: c.command, text: `${c.command}: ${c.summary}` })));
  const wanted = route().command || localStorage.getItem('uniem-workbench-command');
  select.value = commands.some((c) => c.command === wanted) ? wanted : commands[0].command;
  showCommand(select.value);
}

function showCommand(name) {
  const c = state.commands.find((x) => x.command === name);
  state.command = c;
  try { localStorage.setItem('uniem-workbench-command', name); } catch { /* private mode */ }
  $('command-summary').textContent = c.summary.charAt(0).toUpperCase() + c.summary.slice(1) + '.';
  const [first, ...rest] = (c.description || '').split(/\n\s*\n/);
  $('command-description').replaceChildren(...helpText(first));
  $('command-full').replaceChildren(...(rest.length ? helpText(rest.join('\n\n')) : [el('p', { text: 'Nothing more to say about it.' })]));
  $('command-example').textContent = c.example || '';
  $('command-more').open = false;
  state.steps = [];
  buildForm(c);
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
  if (steps.length) holder.append(stepEditor(steps));
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
  input.addEventListener('input', () => box.classList.remove('bad'));
  input.addEventListener('change', () => box.classList.remove('bad'));
  state.fields.push({ arg: a, element: input, box });
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
      onclick: () => { [state.steps[i - 1], state.steps[i]] = [state.steps[i], state.steps[i - 1]]; drawSteps(); } }) : null,
    el('button', { type: 'button', class: 'small', text: 'Remove', title: 'take this step out of the list',
      onclick: () => { state.steps.splice(i, 1); drawSteps(); } }))));
  state.stepBox?.classList.remove('bad');
}

// The arguments the user gave: fields left empty or at their default are not sent.
function collect() {
  const args = {}, problems = [];
  for (const { arg: a, element, box } of state.fields) {
    if (a.type === 'flag') {
      if (element.checked) args[a.name] = true;
      continue;
    }
    if (a.type === 'integer' || a.type === 'number') {
      if (element.validity.badInput) {
        problems.push([box, `"${a.name}" takes a number`]);
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
      if (a.required) problems.push([box, `fill in "${a.name}" (${a.help}): it is required`]);
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
    problems.push([state.stepBox, `you typed "${pending.value.trim()}" for ${$('step-name').value} but did not press Add step: press it, or clear the box`]);
  }
  return { args, problems };
}

// Marks the fields a refusal names (--steps, 'in') and opens "More options" when one is in it.
function markFields(message) {
  const names = new Set();
  for (const m of message.matchAll(/--([a-z0-9][a-z0-9-]*)|'([a-z0-9][a-z0-9-]*)'/g)) names.add(m[1] || m[2]);
  let first = null;
  for (const { arg, box } of state.fields) {
    if (!names.has(arg.name)) continue;
    box.classList.add('bad');
    first = first || box;
  }
  if (!first && state.stepBox && [...names].some((n) => n === 'steps' || state.command.arguments.some((a) => a.kind === 'step' && a.name === n))) {
    state.stepBox.classList.add('bad');
    first = state.stepBox;
  }
  if (first) {
    const more = first.closest('details');
    if (more) more.open = true;
    first.scrollIntoView({ block: 'center' });
  }
}

async function submit(event) {
  event.preventDefault();
  for (const { box } of state.fields) box.classList.remove('bad');
  state.stepBox?.classList.remove('bad');
  const { args, problems } = collect();
  if (problems.length) {
    for (const [box] of problems) box?.classList.add('bad');
    say('run-message', `Not run: ${problems.map((p) => p[1]).join('; ')}.`, 'error');
    return;
  }
  const body = { job: { command: state.command.command, arguments: args } };
  const name = $('job-name').value.trim();
  if (name) body.name = name;
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
    say('run-message', `Not run: ${e.message}`, 'error');
    markFields(e.message);
  } finally {
    button.disabled = false;
  }
}

function resetForm() {
  showCommand(state.command.command);
  $('job-name').value = '';
  say('run-message', 'The form is back to its defaults.', 'info');
}
