/**
 * flowctl: flows as code and runs from the terminal, over the REST API (README: flowctl).
 * Exit codes: 0 success / Completed, 1 Failed or refused, 2 Cancelled, 3 Terminated or TimedOut, 4 usage, connection
 * or credential errors.
 */
import { Command, CommanderError, Option } from 'commander';
import { CliError, EXIT, FlowApi } from './client';
import { resolveTarget } from './config';
import { apply, exportFlow, validate } from './commands/bundle';
import type { Context } from './commands/context';
import { get, graph, remove } from './commands/entities';
import { keysCreate, keysList, keysRevoke, login } from './commands/keys';
import { pauseOrResume, rerun, run, runs, status, stop } from './commands/runs';
import { createOut, type Format } from './output';

interface GlobalOptions {
  apiUrl?: string;
  apiKey?: string;
  profile?: string;
  output: Format;
}

function program(): Command {
  const root = new Command('flowctl')
    .description(
      'FlowOrchestrator from the terminal: apply bundles of definitions, run flows and follow them.',
    )
    .option('--api-url <url>', 'the API (default: FLOW_API_URL, the profile, http://localhost:3000)')
    .option('--api-key <key>', 'an API key (default: FLOW_API_KEY, the profile)')
    .option('--profile <name>', 'a profile of ~/.config/flowctl/config.yaml (flowctl login)')
    .addOption(
      new Option('-o, --output <format>', 'table for people, json or yaml for scripts')
        .choices(['table', 'json', 'yaml'])
        .default('table'),
    )
    .showHelpAfterError()
    .exitOverride();

  let exitCode: number = EXIT.ok;
  const context = (command: Command): Context => {
    const options = command.optsWithGlobals<GlobalOptions>();
    let api: FlowApi | undefined;
    return {
      out: createOut(options.output),
      api: async () => (api ??= new FlowApi(await resolveTarget(options))),
    };
  };
  /** Registers an action: its exit code becomes the process's. */
  const act =
    <A extends unknown[]>(work: (ctx: Context, ...args: A) => Promise<number>) =>
    async (...args: unknown[]) => {
      const command = args.at(-1) as Command;
      exitCode = await work(context(command), ...(args.slice(0, -1) as A));
    };

  root
    .command('apply')
    .description('show the plan of a bundle (create / update with fields / unchanged), then apply it')
    .requiredOption('-f, --file <path...>', 'bundle files or directories (.yaml, .yml, .json)')
    .option('--dry-run', 'only show the plan')
    .option('--prune', 'also delete stored entities the --selector matches that the bundle no longer holds')
    .option('--selector <pattern>', 'with --prune: a name, or a name prefix ending in * (Greeting*)')
    .action(
      act((ctx, options: { file: string[]; dryRun?: boolean; prune?: boolean; selector?: string }) =>
        apply(ctx, options.file, options),
      ),
    );
  root
    .command('validate')
    .description('check a bundle offline, with the checks the API runs (no server needed)')
    .requiredOption('-f, --file <path...>', 'bundle files or directories')
    .action(act((ctx, options: { file: string[] }) => validate(ctx, options.file)));
  root
    .command('export')
    .description('the flow and everything it references, as a bundle')
    .argument('<flow>', 'name@version or ID of an orchestrated flow')
    .option('--to <file>', 'write to a file instead of stdout')
    .action(
      act((ctx, ref: string, options: { to?: string }) =>
        exportFlow(ctx, ref, options.to ? { output: options.to } : {}),
      ),
    );
  root
    .command('get')
    .description('stored definitions of a kind, or one of them')
    .argument('<kind>', 'Schema, Processor, Step, Workflow, OrchestratedFlow, Assignment, Address, Delivery')
    .argument('[ref]', 'name@version or ID')
    .action(act((ctx, kind: string, ref: string | undefined) => get(ctx, kind, ref)));
  root
    .command('delete')
    .description('delete a stored definition (refused while something refers to it)')
    .argument('<kind>')
    .argument('<ref>', 'name@version or ID')
    .action(act((ctx, kind: string, ref: string) => remove(ctx, kind, ref)));
  root
    .command('run')
    .description('start a run of a flow; with --wait, follow it to the end')
    .argument('<flow>', 'name@version or ID of an orchestrated flow')
    .option('--input <json>', 'the run input: JSON, or @file.json')
    .option('--wait', 'follow the run live until it closes; exit code by its outcome')
    .option('--idempotency-key <key>', 'start at most once for this key')
    .action(
      act((ctx, ref: string, options: { input?: string; wait?: boolean; idempotencyKey?: string }) =>
        run(ctx, ref, options),
      ),
    );
  root
    .command('status')
    .description("a run's status, step by step (the latest run unless --run)")
    .argument('<flow>')
    .option('--run <id>', 'a given run')
    .option('--wait', 'follow it until it closes')
    .action(act((ctx, ref: string, options: { run?: string; wait?: boolean }) => status(ctx, ref, options)));
  root
    .command('runs')
    .description("a flow's runs, newest first")
    .argument('<flow>')
    .option('--limit <n>', 'how many', '20')
    .action(act((ctx, ref: string, options: { limit?: string }) => runs(ctx, ref, options)));
  root
    .command('stop')
    .description(
      'stop the open runs of a flow (cancel; --terminate to terminate, --compensate to compensate succeeded steps)',
    )
    .argument('<flow>')
    .option('--terminate', 'terminate instead of cancelling')
    .addOption(
      new Option('--compensate', 'cancel, then compensate the steps that succeeded').conflicts('terminate'),
    )
    .action(
      act((ctx, ref: string, options: { terminate?: boolean; compensate?: boolean }) =>
        stop(ctx, ref, options),
      ),
    );
  root
    .command('pause')
    .description("pause a run: no new step starts, running steps finish (the flow's open run unless --run)")
    .argument('<flow>')
    .option('--run <id>', 'a given open run')
    .option('--reason <text>', 'why, shown with the run')
    .action(
      act((ctx, ref: string, options: { run?: string; reason?: string }) =>
        pauseOrResume(ctx, 'pause', ref, options),
      ),
    );
  root
    .command('resume')
    .description("resume a paused run (the flow's open run unless --run)")
    .argument('<flow>')
    .option('--run <id>', 'a given paused run')
    .action(act((ctx, ref: string, options: { run?: string }) => pauseOrResume(ctx, 'resume', ref, options)));
  root
    .command('rerun')
    .description(
      'rerun a closed run (the latest unless given): its failed and cancelled steps, or --from a step on; the other steps keep their recorded outcome',
    )
    .argument('<flow>')
    .argument('[runId]', 'the run to rerun (default: the latest)')
    .option('--from <step>', 'rerun from this step (name or ID) and everything after it')
    .option('--input <json>', "the new run's input: JSON, or @file.json (default: the original run's)")
    .addOption(new Option('--input-file <path>', "the new run's input from a JSON file").conflicts('input'))
    .option(
      '--current-definition',
      "the flow's stored definition, not the run's (reused steps must be unchanged)",
    )
    .option('--wait', 'follow the new run until it closes; exit code by its outcome')
    .action(
      act(
        (
          ctx,
          ref: string,
          runId: string | undefined,
          options: {
            from?: string;
            input?: string;
            inputFile?: string;
            currentDefinition?: boolean;
            wait?: boolean;
          },
        ) => rerun(ctx, ref, runId, options),
      ),
    );
  root
    .command('graph')
    .description("the flow's DAG: an indented tree, or Mermaid")
    .argument('<flow>')
    .addOption(
      new Option('--format <format>', 'tree or mermaid').choices(['tree', 'mermaid']).default('tree'),
    )
    .action(act((ctx, ref: string, options: { format?: string }) => graph(ctx, ref, options)));
  root
    .command('login')
    .description('check an API key and store it in a profile (mode 0600)')
    .action(
      act((ctx, _options: object) => {
        const { apiUrl, apiKey, profile } = root.opts<GlobalOptions>();
        return login(ctx, {
          ...(apiUrl ? { apiUrl } : {}),
          ...(apiKey ? { apiKey } : {}),
          ...(profile ? { profile } : {}),
        });
      }),
    );
  const keys = root.command('keys').description('API keys (admin)');
  keys
    .command('create')
    .argument('<name>')
    .addOption(
      new Option('--role <role>', 'viewer, operator, editor or admin')
        .choices(['viewer', 'operator', 'editor', 'admin'])
        .makeOptionMandatory(),
    )
    .option('--expires-at <iso>', 'when it stops working')
    .action(
      act((ctx, name: string, options: { role: string; expiresAt?: string }) =>
        keysCreate(ctx, name, options),
      ),
    );
  keys.command('list').action(act((ctx) => keysList(ctx)));
  keys
    .command('revoke')
    .argument('<id>')
    .action(act((ctx, id: string) => keysRevoke(ctx, id)));

  root
    .command('completion')
    .description('a bash completion script: source <(npx flowctl completion) (zsh: after bashcompinit)')
    .action(() => {
      process.stdout.write(bashCompletion(root));
    });

  root.hook('postAction', () => {
    process.exitCode = exitCode;
  });
  return root;
}

/** Bash completion for the commands and options `root` declares (generated, so it cannot drift). */
export function bashCompletion(root: Command): string {
  const optionsOf = (command: Command) =>
    command.options
      .map((o) => o.long ?? o.short)
      .filter(Boolean)
      .join(' ');
  const cases = root.commands
    .map((command) => {
      const subcommands = command.commands.map((c) => c.name()).join(' ');
      return `    ${command.name()}) words="${[subcommands, optionsOf(command), optionsOf(root)].filter(Boolean).join(' ')}" ;;`;
    })
    .join('\n');
  return `# flowctl bash completion: source <(npx flowctl completion)
_flowctl() {
  local current="\${COMP_WORDS[COMP_CWORD]}" command="\${COMP_WORDS[1]}" words
  if [ "$COMP_CWORD" -eq 1 ]; then
    words="${root.commands.map((c) => c.name()).join(' ')} ${optionsOf(root)}"
  else
    case "$command" in
${cases}
    esac
  fi
  COMPREPLY=( $(compgen -W "$words" -- "$current") )
  case "$current" in -*|"") ;; *) [ "\${#COMPREPLY[@]}" -eq 0 ] && COMPREPLY=( $(compgen -f -- "$current") ) ;; esac
}
complete -F _flowctl flowctl
`;
}

const text = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value ?? ''));

export async function main(argv: string[]): Promise<number> {
  // `flowctl get steps | head`: a reader that went away ends the command quietly.
  for (const stream of [process.stdout, process.stderr])
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(0);
      throw error;
    });
  try {
    await program().parseAsync(argv, { from: 'user' });
    return Number(process.exitCode ?? EXIT.ok);
  } catch (error) {
    if (error instanceof CommanderError)
      return error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.exitCode === 0
        ? EXIT.ok
        : EXIT.usage;
    if (error instanceof CliError) {
      process.stderr.write(`flowctl: ${error.message}\n`);
      for (const detail of error.details)
        process.stderr
          .write(`  ${text(detail.field)}: ${text(detail.message)}${detail.rule ? ` (${text(detail.rule)})` : ''}
`);
      return error.exitCode;
    }
    process.stderr.write(`flowctl: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT.usage;
  }
}

if (require.main === module)
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
