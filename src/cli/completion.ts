// berth completion bash|zsh|fish: a completion script made from the verb table at the time it is
// asked for (so it never disagrees with this berth), for the shell to source or to install.
// Container ids and image refs come from berth itself (`list -q`, `image ls -q`, honouring a
// --root typed on the line); values such as backends, signals and formats are in the script.
import { UsageError } from '../core/errors.js';
import { signalNames } from '../core/signals.js';
import { completionModel, SHELLS, type CompletionModel, type ValueKind } from './completion-model.js';
import type { VerbContext } from './context.js';

const kindName = (k: ValueKind): string => (typeof k === 'string' ? k : `words:${k.words.join(' ')}`);
const sq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * The walk over the words before the cursor, the same in bash and zsh: it finds the verb, the
 * subcommand, how many operands came after them, the --root given, and an option whose value is
 * being typed. `loop` opens the loop, `word` is the i-th word in that shell.
 */
function walk(loop: string, word: string): string {
  return `  ${loop}
    word=${word}
    if [[ -n $expect ]]; then
      [[ $expect == --root ]] && root=$word
      expect=
      continue
    fi
    if [[ -z $done && $word == -* ]]; then
      [[ $word == -- ]] && { done=1; continue; }
      [[ $word == --root=* ]] && root=\${word#--root=}
      [[ $word != *=* && -n $(_berth_kind "|$word")$(_berth_kind "$verb|$word") ]] && expect=$word
      continue
    fi
    if [[ -z $verb ]]; then verb=$word
    elif [[ -n $(_berth_subcommands "$verb") && -z $sub ]]; then sub=$word
    else n=$((n + 1)); fi
  done
`;
}

/** The bash function (also the logic of the zsh script's words). */
export function bashScript(m: CompletionModel = completionModel()): string {
  const verbs = m.verbs.map((v) => v.name).join(' ');
  const optCase = Object.keys(m.options)
    .map((verb) => `    ${sq(verb)}) echo ${sq(m.options[verb]!.flatMap((o) => [`--${o.name}`, ...(o.short ? [`-${o.short}`] : [])]).join(' '))} ;;`)
    .join('\n');
  const kindCase = Object.entries(m.options)
    .flatMap(([verb, opts]) => opts.filter((o) => o.kind !== 'none').flatMap((o) => [`--${o.name}`, ...(o.short ? [`-${o.short}`] : [])].map((flag) => `    ${sq(`${verb}|${flag}`)}) echo ${sq(kindName(o.kind))} ;;`)))
    .join('\n');
  const subCase = Object.entries(m.subcommands)
    .map(([verb, subs]) => `    ${sq(verb)}) echo ${sq(subs.map((s) => s.name).join(' '))} ;;`)
    .join('\n');
  const operandCase = Object.entries(m.operands)
    .flatMap(([key, kinds]) => kinds.map((k, i) => `    ${sq(`${key} ${i}`)}) echo ${sq(kindName(k))} ;;`))
    .join('\n');
  return `# bash completion for berth, made by \`berth completion bash\` from its verb table.
# Install: berth completion bash > /usr/share/bash-completion/completions/berth

_berth_options() {
  case "$1" in
${optCase}
  esac
}

_berth_kind() {
  case "$1" in
${kindCase}
${operandCase}
  esac
}

_berth_subcommands() {
  case "$1" in
${subCase}
  esac
}

# _berth_values KIND CUR SELF ROOT: the candidates of one kind.
_berth_values() {
  local kind=$1 cur=$2 self=$3 root=$4
  local -a rootarg=()
  [[ -n $root ]] && rootarg=(--root "$root")
  case $kind in
    container) compgen -W "$("$self" "\${rootarg[@]}" list -q 2>/dev/null)" -- "$cur" ;;
    image) compgen -W "$("$self" "\${rootarg[@]}" image ls -q 2>/dev/null)" -- "$cur" ;;
    file) compgen -f -- "$cur" ;;
    dir) compgen -d -- "$cur" ;;
    backend) compgen -W ${sq(m.backends.join(' '))} -- "$cur" ;;
    signal) compgen -W ${sq(signalNames().join(' '))} -- "$cur" ;;
    verb) compgen -W ${sq(verbs)} -- "$cur" ;;
    words:*) compgen -W "\${kind#words:}" -- "$cur" ;;
  esac
}

_berth() {
  # The line as typed, split on blanks only (COMP_WORDS also splits at = and :, which image
  # refs and --opt=value contain).
  local line=\${COMP_LINE:0:COMP_POINT}
  local -a w
  read -ra w <<<"$line"
  [[ -z $line || $line == *[[:space:]] ]] && w+=("")
  local cur=\${w[\${#w[@]}-1]} self=\${w[0]}
  local verb= sub= root= expect= n=0 i word done=
${walk('for ((i = 1; i < ${#w[@]} - 1; i++)); do', '${w[i]}')}  local kind= prefix=
  if [[ -n $expect ]]; then
    kind=$(_berth_kind "$verb|$expect")
    [[ -z $kind ]] && kind=$(_berth_kind "|$expect")
  elif [[ -z $done && $cur == --*=* ]]; then
    prefix=\${cur%%=*}=
    kind=$(_berth_kind "$verb|\${cur%%=*}")
    [[ -z $kind ]] && kind=$(_berth_kind "|\${cur%%=*}")
    cur=\${cur#*=}
  elif [[ -z $done && $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$(_berth_options '') $([[ -n $verb ]] && _berth_options "$verb")" -- "$cur")
    return
  elif [[ -z $verb ]]; then
    kind=verb
  elif [[ -n $(_berth_subcommands "$verb") && -z $sub ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$(_berth_subcommands "$verb")" -- "$cur")
    return
  else
    kind=$(_berth_kind "$verb\${sub:+ $sub} $n")
  fi
  [[ -z $kind || $kind == none ]] && { COMPREPLY=(); return; }
  mapfile -t COMPREPLY < <(_berth_values "$kind" "$cur" "$self" "$root")
  [[ $kind == file || $kind == dir ]] && compopt -o filenames 2>/dev/null
  # Readline replaces only the part after the last word break (= or :): drop what precedes it.
  local typed=$prefix$cur
  if [[ $typed == *[=:]* ]]; then
    local keep=\${typed%"\${typed##*[=:]}"}
    for i in "\${!COMPREPLY[@]}"; do COMPREPLY[i]=\${prefix}\${COMPREPLY[i]}; COMPREPLY[i]=\${COMPREPLY[i]#"$keep"}; done
  fi
}

complete -F _berth berth
`;
}

/** zsh: the same walk over the line, in zsh, handing candidates to compadd/_files. */
export function zshScript(m: CompletionModel = completionModel()): string {
  const bash = bashScript(m);
  // The case tables are shell-neutral; take them from the bash script.
  const tables = bash.slice(bash.indexOf('_berth_options() {'), bash.indexOf('# _berth_values KIND'));
  return `#compdef berth
# zsh completion for berth, made by \`berth completion zsh\` from its verb table.
# Install: berth completion zsh > "\${fpath[1]}/_berth" (then: autoload -U compinit && compinit)

${tables}
_berth_zsh_values() {
  local kind=$1 self=$2 root=$3
  local -a rootarg
  [[ -n $root ]] && rootarg=(--root "$root")
  case $kind in
    container) compadd -- \${(f)"$("$self" $rootarg list -q 2>/dev/null)"} ;;
    image) compadd -- \${(f)"$("$self" $rootarg image ls -q 2>/dev/null)"} ;;
    file) _files ;;
    dir) _files -/ ;;
    backend) compadd -- ${m.backends.join(' ')} ;;
    signal) compadd -- ${signalNames().join(' ')} ;;
    verb) compadd -- ${m.verbs.map((v) => v.name).join(' ')} ;;
    words:*) compadd -- \${=kind#words:} ;;
  esac
}

_berth() {
  local self=\${words[1]} cur=\${words[CURRENT]}
  local verb= sub= root= expect= n=0 i word done=
${walk('for ((i = 2; i < CURRENT; i++)); do', '${words[i]}')}  local kind=
  if [[ -n $expect ]]; then
    kind=$(_berth_kind "$verb|$expect")
    [[ -z $kind ]] && kind=$(_berth_kind "|$expect")
  elif [[ -z $done && $cur == -* ]]; then
    compadd -- \${=$(_berth_options '')} \${=$([[ -n $verb ]] && _berth_options "$verb")}
    return
  elif [[ -z $verb ]]; then
    kind=verb
  elif [[ -n $(_berth_subcommands "$verb") && -z $sub ]]; then
    compadd -- \${=$(_berth_subcommands "$verb")}
    return
  else
    kind=$(_berth_kind "$verb\${sub:+ $sub} $n")
  fi
  [[ -z $kind || $kind == none ]] && return 1
  _berth_zsh_values "$kind" "$self" "$root"
}

if [[ $zsh_eval_context[-1] == loadautofunc ]]; then _berth "$@"; else compdef _berth berth; fi
`;
}

/** fish: one `complete` line per verb, option and subcommand, with conditions on the line so far. */
export function fishScript(m: CompletionModel = completionModel()): string {
  const valued = (verb: string): string => (m.options[verb] ?? []).filter((o) => o.kind !== 'none').flatMap((o) => [`--${o.name}`, ...(o.short ? [`-${o.short}`] : [])]).join(' ');
  const fishArgs = (k: ValueKind): string => {
    if (typeof k !== 'string') return `-x -a ${sq(k.words.join(' '))}`;
    switch (k) {
      case 'container':
        return "-x -a '(__berth_ask list -q)'";
      case 'image':
        return "-x -a '(__berth_ask image ls -q)'";
      case 'file':
        return '-r -F';
      case 'dir':
        return "-x -a '(__fish_complete_directories)'";
      case 'backend':
        return `-x -a ${sq(m.backends.join(' '))}`;
      case 'signal':
        return `-x -a ${sq(signalNames().join(' '))}`;
      case 'verb':
        return `-x -a ${sq(m.verbs.map((v) => v.name).join(' '))}`;
      default:
        return '-x';
    }
  };
  const lines: string[] = [];
  for (const v of m.verbs) lines.push(`complete -c berth -n '__berth_state; test -z "$__berth_verb"' -a ${sq(v.name)} -d ${sq(v.summary)}`);
  for (const [verb, opts] of Object.entries(m.options)) {
    const cond = verb === '' ? '' : `-n ${sq(`__berth_state; test "$__berth_verb" = ${verb}`)} `;
    for (const o of opts) {
      const value = o.kind === 'none' ? '' : ` ${fishArgs(o.kind)}`;
      lines.push(`complete -c berth ${cond}-l ${o.name}${o.short ? ` -s ${o.short}` : ''}${value} -d ${sq(o.description)}`);
    }
  }
  for (const [verb, subs] of Object.entries(m.subcommands)) {
    for (const s of subs) lines.push(`complete -c berth -n ${sq(`__berth_state; test "$__berth_verb" = ${verb} -a -z "$__berth_sub"`)} -a ${sq(s.name)} -d ${sq(s.summary)}`);
  }
  for (const [key, kinds] of Object.entries(m.operands)) {
    const [verb, sub] = key.split(' ');
    kinds.forEach((k, i) => {
      if (k === 'none') return;
      const cond = `__berth_state; test "$__berth_verb" = ${verb} -a "$__berth_sub" = "${sub ?? ''}" -a "$__berth_n" = ${i} -a -z "$__berth_expect"`;
      lines.push(`complete -c berth -n ${sq(cond)} ${fishArgs(k)}`);
    });
  }
  const subVerbs = Object.keys(m.subcommands).join(' ');
  return `# fish completion for berth, made by \`berth completion fish\` from its verb table.
# Install: berth completion fish > ~/.config/fish/completions/berth.fish

# Reads the line so far into $__berth_verb, $__berth_sub, $__berth_n (operands after them),
# $__berth_root and $__berth_expect (an option whose value is being typed).
function __berth_state
    set -g __berth_verb ''
    set -g __berth_sub ''
    set -g __berth_root ''
    set -g __berth_expect ''
    set -g __berth_n 0
    set -l done ''
    set -l words (commandline -opc)
    for word in $words[2..-1]
        if test -n "$__berth_expect"
            test "$__berth_expect" = --root; and set -g __berth_root $word
            set -g __berth_expect ''
            continue
        end
        if test -z "$done"; and string match -q -- '-*' $word
            if test "$word" = --
                set done 1
                continue
            end
            string match -q -- '--root=*' $word; and set -g __berth_root (string replace -- '--root=' '' $word)
            if not string match -q -- '*=*' $word
                if contains -- $word ${valued('')}; or contains -- $word (__berth_valued $__berth_verb)
                    set -g __berth_expect $word
                end
            end
            continue
        end
        if test -z "$__berth_verb"
            set -g __berth_verb $word
        else if contains -- $__berth_verb ${subVerbs}; and test -z "$__berth_sub"
            set -g __berth_sub $word
        else
            set -g __berth_n (math $__berth_n + 1)
        end
    end
    return 0
end

function __berth_valued
    switch "$argv[1]"
${Object.keys(m.options)
  .filter((v) => v !== '')
  .map((v) => `        case ${v}\n            echo ${valued(v) || "''"} | string split ' '`)
  .join('\n')}
    end
end

function __berth_ask
    __berth_state
    set -l self (commandline -opc)[1]
    if test -n "$__berth_root"
        $self --root $__berth_root $argv 2>/dev/null
    else
        $self $argv 2>/dev/null
    end
end

complete -c berth -f
${lines.join('\n')}
`;
}

export default async function completion(ctx: VerbContext): Promise<void> {
  const [shell, ...rest] = ctx.operands;
  if (shell === undefined || rest.length > 0 || !(SHELLS as readonly string[]).includes(shell)) {
    throw new UsageError(`completion takes one shell: ${SHELLS.join(', ')} (e.g. \`berth completion bash > /usr/share/bash-completion/completions/berth\`)`);
  }
  const model = completionModel();
  process.stdout.write(shell === 'bash' ? bashScript(model) : shell === 'zsh' ? zshScript(model) : fishScript(model));
}
