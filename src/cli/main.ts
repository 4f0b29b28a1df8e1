/**
 * The `pdroute` command line. Each subcommand lives in `commands/<name>.ts` and exports a
 * function returning its commander `Command`; this file only assembles them and maps errors
 * to exit codes: 0 ok, 1 the job itself failed, 2 bad input (named in one line on stderr).
 */
import { Command, CommanderError } from "@commander-js/extra-typings";
import { PolicyInputError } from "../core/errors.ts";
import { compareCommand } from "./commands/compare.ts";
import { driveCommand } from "./commands/drive.ts";
import { emulateCommand } from "./commands/emulate.ts";
import { leagueCommand } from "./commands/league.ts";
import { poolsCommand } from "./commands/pools.ts";
import { reportCommand } from "./commands/report.ts";
import { serveCommand } from "./commands/serve.ts";
import { simulateCommand } from "./commands/simulate.ts";
import { sweepCommand } from "./commands/sweep.ts";
import { topologyCommand } from "./commands/topology.ts";
import { workerCommand } from "./commands/worker.ts";
import { CliError } from "./errors.ts";

export function buildProgram(): Command {
  const program = new Command("pdroute")
    .description("Prefill/decode router for LLM inference: simulate, serve, emulate, drive.")
    .showHelpAfterError("run 'pdroute --help' for usage")
    .exitOverride();
  // Subcommands: one line each, in alphabetical order.
  program.addCommand(compareCommand());
  program.addCommand(driveCommand());
  program.addCommand(emulateCommand());
  program.addCommand(leagueCommand());
  program.addCommand(poolsCommand());
  program.addCommand(reportCommand());
  program.addCommand(serveCommand());
  program.addCommand(simulateCommand());
  program.addCommand(sweepCommand());
  program.addCommand(topologyCommand());
  program.addCommand(workerCommand());
  // One output path for commander's own messages, so they can be captured and tested.
  const output = {
    writeOut: (text: string) => console.log(text.trimEnd()),
    writeErr: (text: string) => console.error(text.trimEnd()),
  };
  program.configureOutput(output);
  for (const command of program.commands) {
    // A bad flag: commander's one-line error, then one line pointing to the help.
    command.exitOverride()
      .showHelpAfterError(`run 'pdroute ${command.name()} --help' for usage`)
      .configureOutput(output);
  }
  return program;
}

/** Runs the CLI on `args` and returns the process exit code. */
export async function main(args: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(args, { from: "user" });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander has already printed its message (or the help text).
      return error.exitCode === 0 ? 0 : 2;
    }
    if (error instanceof CliError || error instanceof PolicyInputError) {
      console.error(`pdroute: ${error.message}`);
      return error instanceof CliError ? error.exitCode : 2;
    }
    throw error;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
