/**
 * @module cli/main
 * The `puhui` command. stdout carries only each command's result (single-line JSON with --json);
 * logs, progress and the embedded database's chatter go to stderr. Exit 0 on success, 1 with a
 * one-line reason on stderr otherwise. Commands work on the same data directory whether or not a
 * server is running (the embedded server is shared through its lock; see db/embedded.ts).
 */
import { readFile } from 'node:fs/promises'
import { Command, CommanderError, Option } from 'commander'
import { createApiKey, createTenant, createUser, findTenantIdBySlug, revokeApiKey, roles, systemActor, type Role } from '../access/index.ts'
import { loadConfig } from '../config.ts'
import { systemClock } from '../core/clock.ts'
import { uuidv7Source } from '../core/ids.ts'
import { inTenant, openDatabase, type Database } from '../db/database.ts'
import { migrate, readMigrations } from '../db/migrate.ts'
import { loadKeyring, rotateKey } from '../keys/index.ts'
import { createLogger } from '../log.ts'
import { version } from '../version.ts'
import { registerCobCommand } from './commands/cob.ts'
import { registerLendingCommands } from './commands/lending.ts'
import { registerModelCommands } from './commands/model.ts'
import { registerSimulateCommand } from './commands/simulate.ts'
import { startProgress } from './progress.ts'
import { resolveTenantId } from './tenant.ts'

class CliError extends Error {}

function parseCount(text: string): number {
  if (!/^\d{1,15}$/.test(text)) throw new CliError(`"${text}" is not a non-negative whole number`)
  return Number.parseInt(text, 10)
}

/** Runs a pure command, turning its thrown message into the CLI's one-line error. */
function runPure(fn: () => string): string {
  try {
    return fn()
  } catch (error) {
    throw new CliError(error instanceof Error ? error.message : String(error))
  }
}

function print(value: unknown, json: boolean, human: string): void {
  process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${human}\n`)
}

async function withDatabase<T>(fn: (database: Database) => Promise<T>): Promise<T> {
  const config = loadConfig()
  const database = await openDatabase(config, createLogger(config.logLevel))
  try {
    return await fn(database)
  } finally {
    await database.close()
  }
}

async function tenantIdOrThrow(database: Database, slug: string): Promise<string> {
  const id = await findTenantIdBySlug(database.db, slug)
  if (id === undefined) throw new CliError(`no tenant with slug "${slug}"`)
  return id
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

const roleOption = () => new Option('--role <role>', 'role').choices(roles).makeOptionMandatory()

export function buildCli(): Command {
  const program = new Command('puhui')
    .description('Puhui (普惠): online credit for small and micro businesses')
    .version(version)
    .showHelpAfterError()
    .configureOutput({ writeOut: (text) => process.stdout.write(text), writeErr: (text) => process.stderr.write(text) })

  program
    .command('serve')
    .description('start the server, API docs and web console (PORT, default 3000), with the embedded database unless DATABASE_URL is set')
    .action(async () => {
      const { describeStart, startServer } = await import('../server.ts') // Fastify loads only for serve
      const config = loadConfig()
      const log = createLogger(config.logLevel)
      const server = await startServer(config, log)
      process.stdout.write(`${describeStart(server)}\n`)
      const shutdown = (signal: string) => {
        log.info({ signal }, 'shutting down')
        server.stop().then(
          () => process.exit(0),
          (error: unknown) => {
            log.error({ err: error }, 'shutdown failed')
            process.exit(1)
          },
        )
      }
      process.once('SIGINT', shutdown)
      process.once('SIGTERM', shutdown)
    })

  program
    .command('schedule')
    .description('print the repayment schedule of a loan specification as one line of JSON (no database)')
    .requiredOption('--spec <file>', 'the specification as JSON, or - for stdin (see docs/schedules.md)')
    .action(async (options: { spec: string }) => {
      const { buildSchedule, formatScheduleJson, parseScheduleSpecJson } = await import('../loans/index.ts')
      const text = options.spec === '-' ? await readStdin() : await readFile(options.spec, 'utf8').catch((error: Error) => {
        throw new CliError(`cannot read --spec ${options.spec}: ${error.message}`)
      })
      const parsed = parseScheduleSpecJson(text)
      if (parsed.status !== 'ok') throw new CliError(`invalid schedule spec: ${parsed.field}: ${parsed.reason}`)
      process.stdout.write(`${formatScheduleJson(buildSchedule(parsed.value))}\n`)
    })

  program
    .command('migrate')
    .description('apply pending database migrations (also done on every start)')
    .option('--json', 'print {"applied":[…],"current":…}')
    .action(async (options: { json?: boolean }) => {
      const config = loadConfig()
      const database = await openDatabase(config, createLogger(config.logLevel), { migrate: false })
      try {
        const migrations = readMigrations()
        const progress = startProgress('migrating', migrations.length)
        const result = await migrate(database.url, migrations)
        progress.tick(migrations.length)
        progress.stop()
        print(result, options.json === true, result.applied.length === 0 ? `up to date at ${result.current}` : `applied ${result.applied.join(', ')}`)
      } finally {
        await database.close()
      }
    })

  const tenant = program.command('tenant').description('manage tenants')
  tenant
    .command('create')
    .description('create a tenant')
    .requiredOption('--slug <slug>', 'short unique name, [a-z0-9-]')
    .requiredOption('--name <name>', 'display name')
    .option('--time-zone <tz>', 'IANA time zone of the business date', 'Asia/Shanghai')
    .option('--business-date <date>', 'initial business date YYYY-MM-DD (default: today in the time zone)')
    .option('--json', 'print the tenant as JSON')
    .action(async (options: { slug: string; name: string; timeZone: string; businessDate?: string; json?: boolean }) => {
      if (!/^[a-z0-9][a-z0-9-]{1,62}$/.test(options.slug)) throw new CliError('--slug must be 2-63 characters of a-z, 0-9 and -, starting with a letter or digit')
      if (options.businessDate !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(options.businessDate)) throw new CliError('--business-date must be YYYY-MM-DD')
      await withDatabase(async (database) => {
        const result = await createTenant(
          { db: database.db, clock: systemClock, ids: uuidv7Source },
          { slug: options.slug, name: options.name, timeZone: options.timeZone, ...(options.businessDate === undefined ? {} : { businessDate: options.businessDate }) },
        )
        if (result.status !== 'ok') throw new CliError(`tenant slug "${options.slug}" is taken`)
        print(result.value, options.json === true, `created tenant ${result.value.slug} (${result.value.id})`)
      })
    })

  const user = program.command('user').description('manage users')
  user
    .command('create')
    .description('create a user who can log in to the console')
    .requiredOption('--tenant <slug>', 'tenant slug')
    .requiredOption('--email <email>', 'login email')
    .addOption(roleOption())
    .option('--name <name>', 'display name (default: the email)')
    .option('--password-stdin', 'read the password from stdin (otherwise one is generated and printed)')
    .option('--enterprise <id>', 'enterprise the user acts for (required for borrowers)')
    .option('--json', 'print {"id","email","tenant","role","password"?} as JSON')
    .action(async (options: { tenant: string; email: string; role: Role; name?: string; passwordStdin?: boolean; enterprise?: string; json?: boolean }) => {
      const generated = options.passwordStdin === true ? undefined : (await import('node:crypto')).randomBytes(12).toString('base64url')
      const password = generated ?? (await readStdin()).replace(/\r?\n$/, '')
      await withDatabase(async (database) => {
        const tenantId = await tenantIdOrThrow(database, options.tenant)
        const result = await inTenant(database.db, tenantId, (trx) =>
          createUser(trx, { clock: systemClock, ids: uuidv7Source }, { tenantId, actor: systemActor, email: options.email, displayName: options.name ?? options.email, role: options.role, password, enterpriseId: options.enterprise ?? null }),
        )
        if (result.status !== 'ok') throw new CliError(`${result.status}${result.detail === undefined ? '' : `: ${result.detail}`}`)
        const out = { id: result.value.id, email: result.value.email, tenant: options.tenant, role: result.value.role, ...(generated === undefined ? {} : { password: generated }) }
        print(out, options.json === true, `created user ${out.email} (${out.role})${generated === undefined ? '' : `, password: ${generated}`}`)
      })
    })

  const apikey = program.command('apikey').description('manage API keys')
  apikey
    .command('create')
    .description('create an API key (shown once)')
    .requiredOption('--tenant <slug>', 'tenant slug')
    .addOption(roleOption())
    .option('--name <name>', 'what the key is for', 'cli')
    .option('--enterprise <id>', 'enterprise the key acts for (required for borrowers)')
    .option('--json', 'print {"id","key","tenant","role"} as JSON')
    .action(async (options: { tenant: string; role: Role; name: string; enterprise?: string; json?: boolean }) => {
      await withDatabase(async (database) => {
        const tenantId = await tenantIdOrThrow(database, options.tenant)
        const result = await inTenant(database.db, tenantId, (trx) =>
          createApiKey(trx, { clock: systemClock, ids: uuidv7Source }, { tenantId, actor: systemActor, name: options.name, role: options.role, enterpriseId: options.enterprise ?? null }),
        )
        if (result.status !== 'ok') throw new CliError(result.status)
        print({ id: result.value.id, key: result.value.key, tenant: options.tenant, role: result.value.role }, options.json === true, result.value.key)
      })
    })
  apikey
    .command('revoke')
    .description('revoke an API key')
    .requiredOption('--tenant <slug>', 'tenant slug')
    .requiredOption('--id <id>', 'API key id')
    .option('--json', 'print the revoked key as JSON')
    .action(async (options: { tenant: string; id: string; json?: boolean }) => {
      await withDatabase(async (database) => {
        const tenantId = await tenantIdOrThrow(database, options.tenant)
        const result = await inTenant(database.db, tenantId, (trx) => revokeApiKey(trx, { clock: systemClock, ids: uuidv7Source }, { tenantId, actor: systemActor, id: options.id }))
        if (result.status !== 'ok') throw new CliError(`no API key ${options.id} in tenant ${options.tenant}`)
        print({ id: result.value.id, revokedAt: result.value.revokedAt }, options.json === true, `revoked ${result.value.id}`)
      })
    })

  program
    .command('ingest')
    .description('ingest a CSV file of one data source (header row: externalId, enterpriseId and the source fields; docs/credit-data.md)')
    .option('--tenant <slug>', 'tenant slug (default: PUHUI_TENANT, or the only tenant of the installation)')
    .addOption(new Option('--source <name>', 'data source').choices(['registration', 'tax_filings', 'payment_flows', 'orders', 'logistics', 'reviews', 'utilities']).makeOptionMandatory())
    .option('--strict', 'exit 1 unless every row was created or already present')
    .argument('<file>', 'CSV file')
    .action(async (file: string, options: { tenant?: string; source: string; strict?: boolean }) => {
      const { ingestCsvFile } = await import('./ingest.ts')
      const summary = await withDatabase(async (database) => ingestCsvFile(database, await resolveTenantId(database, options.tenant), options.source, file))
      process.stdout.write(`${JSON.stringify(summary)}\n`)
      if (options.strict === true && summary.created + summary.exists < summary.rows) process.exitCode = 1
    })

  const merkle = program.command('merkle').description('RFC 6962 Merkle tree tools on raw hex leaves (no database), to check our hashing against other implementations')
  merkle
    .command('root')
    .description('print the tree root as hex (no leaves: the hash of the empty string; an empty argument is an empty leaf)')
    .argument('[hex...]', 'leaves as hex')
    .action(async (hex: string[]) => {
      const { merkleRootCommand } = await import('../ledger/merkle-cli.ts')
      process.stdout.write(`${runPure(() => merkleRootCommand(hex))}\n`)
    })
  merkle
    .command('inclusion')
    .description('print RFC 6962 PATH(index, D[n]) as a JSON array of hex hashes')
    .requiredOption('--index <i>', 'leaf index, from 0', parseCount)
    .argument('[hex...]', 'leaves as hex')
    .action(async (hex: string[], options: { index: number }) => {
      const { merkleInclusionCommand } = await import('../ledger/merkle-cli.ts')
      process.stdout.write(`${runPure(() => merkleInclusionCommand(options.index, hex))}\n`)
    })
  merkle
    .command('consistency')
    .description('print RFC 6962 PROOF(m, D[n]) as a JSON array of hex hashes')
    .requiredOption('--from <m>', 'the earlier tree size', parseCount)
    .argument('[hex...]', 'leaves as hex')
    .action(async (hex: string[], options: { from: number }) => {
      const { merkleConsistencyCommand } = await import('../ledger/merkle-cli.ts')
      process.stdout.write(`${runPure(() => merkleConsistencyCommand(options.from, hex))}\n`)
    })

  const journal = program.command('journal').description("the tenant's tamper-evident journal")
  journal
    .command('export')
    .description('write the journal as NDJSON, one {"index","leafHex",…decoded fields} per line, oldest first')
    .requiredOption('--tenant <slug>', 'tenant slug')
    .option('--from <index>', 'first index', parseCount, 0)
    .action(async (options: { tenant: string; from: number }) => {
      const { exportJournal } = await import('../ledger/ledger-service.ts')
      await withDatabase(async (database) => {
        const tenantId = await tenantIdOrThrow(database, options.tenant)
        let progress: ReturnType<typeof startProgress> | undefined
        let last = 0n
        await exportJournal({ db: database.db, ids: uuidv7Source }, tenantId, {
          fromIndex: BigInt(options.from),
          pageSize: 5_000,
          onLine: (line) => process.stdout.write(`${JSON.stringify(line)}\n`),
          onProgress: (done, total) => {
            progress ??= startProgress('exporting', Number(total))
            progress.tick(Number(done - last))
            last = done
          },
        })
        progress?.stop()
      })
    })
  journal
    .command('sth')
    .description('sign the current tree head of the journal and print it as JSON {"treeSize","timestamp","rootHash","keyId","signature"}')
    .requiredOption('--tenant <slug>', 'tenant slug')
    .action(async (options: { tenant: string }) => {
      const { signJournalHead } = await import('../ledger/ledger-service.ts')
      const config = loadConfig()
      const keyring = loadKeyring({ keyDir: config.keyDir, signingKeyFile: config.signingKeyFile, dataKeyFile: config.dataKeyFile })
      await withDatabase(async (database) => {
        const tenantId = await tenantIdOrThrow(database, options.tenant)
        process.stdout.write(`${JSON.stringify(await signJournalHead({ db: database.db, ids: uuidv7Source }, keyring, tenantId, systemClock.now()))}\n`)
      })
    })
  journal
    .command('verify')
    .description('verify an export offline (no database): the signature of the tree head, the tree, and each entry; names the first bad index')
    .requiredOption('--export <file>', 'NDJSON from `puhui journal export`')
    .requiredOption('--sth <file>', 'signed tree head JSON')
    .requiredOption('--pubkey <file>', 'PEM public key named by the tree head (GET /v1/keys/signing)')
    .action(async (options: { export: string; sth: string; pubkey: string }) => {
      const { verifyJournalExport } = await import('../ledger/journal-verify.ts')
      const read = (file: string) => readFile(file, 'utf8').catch((error: Error) => {
        throw new CliError(`cannot read ${file}: ${error.message}`)
      })
      const [exportText, sthText, pubkey] = await Promise.all([read(options.export), read(options.sth), read(options.pubkey)])
      const lines = exportText.split('\n').filter((line) => line.trim() !== '').map((line, i) => {
        try {
          return JSON.parse(line) as unknown
        } catch {
          throw new CliError(`line ${i + 1} of ${options.export} is not JSON`)
        }
      })
      let sth: unknown
      try {
        sth = JSON.parse(sthText)
      } catch {
        throw new CliError(`${options.sth} is not JSON`)
      }
      const result = verifyJournalExport(lines, sth, pubkey)
      process.stdout.write(`${JSON.stringify(result)}\n`)
      if (!result.ok) process.exitCode = 1
    })

  registerModelCommands(program)
  registerCobCommand(program)
  registerLendingCommands(program)
  registerSimulateCommand(program)

  const keys = program.command('keys').description('signing and data-encryption keys')
  keys
    .command('list')
    .description('the current key ids and every signing public key (no database)')
    .option('--json', 'print {"signing","data","publicKeys":{keyId:pem}} as JSON')
    .action((options: { json?: boolean }) => {
      const config = loadConfig()
      const keyring = loadKeyring({ keyDir: config.keyDir, signingKeyFile: config.signingKeyFile, dataKeyFile: config.dataKeyFile })
      const out = { signing: keyring.signing.keyId, data: keyring.data.keyId, publicKeys: Object.fromEntries(keyring.publicKeys) }
      print(out, options.json === true, `signing ${out.signing}\ndata    ${out.data}`)
    })
  keys
    .command('rotate')
    .description('make a new current key; old keys are kept so old signatures verify and old data decrypts (restart the server after)')
    .addOption(new Option('--kind <kind>', 'which key').choices(['signing', 'data']).makeOptionMandatory())
    .option('--json', 'print {"kind","keyId"} as JSON')
    .action((options: { kind: 'signing' | 'data'; json?: boolean }) => {
      const config = loadConfig()
      if ((options.kind === 'signing' ? config.signingKeyFile : config.dataKeyFile) !== undefined) {
        throw new CliError(`the ${options.kind} key comes from ${options.kind === 'signing' ? 'PUHUI_SIGNING_KEY_FILE' : 'PUHUI_DATA_KEY_FILE'}: rotate it by pointing that variable to a new file`)
      }
      const keyId = rotateKey(config.keyDir, options.kind)
      print({ kind: options.kind, keyId }, options.json === true, `new current ${options.kind} key ${keyId}`)
    })

  return program
}

export async function runCli(argv: string[]): Promise<void> {
  const program = buildCli().exitOverride()
  try {
    await program.parseAsync(argv)
  } catch (error) {
    if (error instanceof CommanderError) process.exit(error.exitCode)
    const message = error instanceof Error ? error.message : String(error)
    process.stderr.write(`puhui: ${message.split('\n')[0]}\n`)
    process.exit(1)
  }
}

await runCli(process.argv)
