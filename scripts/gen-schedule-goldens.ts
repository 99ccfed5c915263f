/**
 * Generates test/golden/schedules/annuity-oracle.json: annuity schedules computed by LibreOffice Calc, an oracle
 * independent of our engine. For each case the script writes a flat ODS spreadsheet whose cells hold PMT, IPMT
 * and PPMT formulas plus a cent-rounded amortization table (interest = ROUND(balance × r; 2), principal =
 * EMI − interest, last installment = remaining balance), converts it to CSV with `libreoffice --headless
 * --convert-to csv`, and stores the values as decimal strings.
 *
 * Run: node scripts/gen-schedule-goldens.ts   (needs Debian's libreoffice-calc; Node ≥ 22.6 for .ts)
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Monthly annuities: principal (major units), nominal annual rate in percent, number of monthly installments. */
const cases = [
  { id: 'cny-5000-12pct-18m', principal: '5000.00', annualRatePct: '12', installments: 18 },
  { id: 'cny-100000-4.35pct-36m', principal: '100000.00', annualRatePct: '4.35', installments: 36 },
  { id: 'cny-1234.56-24pct-6m', principal: '1234.56', annualRatePct: '24', installments: 6 },
  { id: 'cny-500000-3.85pct-120m', principal: '500000.00', annualRatePct: '3.85', installments: 120 },
  { id: 'cny-99.99-36pct-12m', principal: '99.99', annualRatePct: '36', installments: 12 },
  { id: 'cny-30000-18.25pct-24m', principal: '30000.00', annualRatePct: '18.25', installments: 24 },
] as const

const digits = '&quot;0.0000000000&quot;'
const cents = '&quot;0.00&quot;'

function cell(formula: string): string {
  return `<table:table-cell table:formula="of:=${formula}"/>`
}

function text(value: string): string {
  return `<table:table-cell office:value-type="string"><text:p>${value}</text:p></table:table-cell>`
}

/** One spreadsheet row per installment; column E holds the rounded balance the next row reads. */
function buildRows(): string[] {
  const rows: string[] = []
  for (const c of cases) {
    const rate = `(${c.annualRatePct}/1200)`
    const n = c.installments
    const emi = `ROUND(PMT(${rate};${n};-${c.principal});2)`
    rows.push(`<table:table-row>${text(c.id)}${text('pmt')}${cell(`TEXT(PMT(${rate};${n};-${c.principal});${digits})`)}${cell(`TEXT(${emi};${cents})`)}${cell(c.principal)}</table:table-row>`)
    for (let k = 1; k <= n; k++) {
      const row = rows.length + 1
      const previousBalance = `[.E${row - 1}]`
      const interest = `ROUND(${previousBalance}*${rate};2)`
      const principal = k === n ? previousBalance : `(${emi}-${interest})`
      rows.push(`<table:table-row>${text(c.id)}${text(String(k))}`
        + cell(`TEXT(IPMT(${rate};${k};${n};-${c.principal});${digits})`)
        + cell(`TEXT(PPMT(${rate};${k};${n};-${c.principal});${digits})`)
        + cell(`${previousBalance}-${principal}`)
        + cell(`TEXT(${interest};${cents})`)
        + cell(`TEXT(${principal};${cents})`)
        + `</table:table-row>`)
    }
  }
  return rows
}

function buildDocument(rows: readonly string[]): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:of="urn:oasis:names:tc:opendocument:xmlns:of:1.2" office:version="1.2"
 office:mimetype="application/vnd.oasis.opendocument.spreadsheet">
<office:body><office:spreadsheet><table:table table:name="annuities">
${rows.join('\n')}
</table:table></office:spreadsheet></office:body></office:document>
`
}

function parseCsv(csv: string): string[][] {
  return csv.trim().split(/\r?\n/).map((line) => line.split(',').map((field) => field.replace(/^"|"$/g, '')))
}

function main(): void {
  const dir = mkdtempSync(join(tmpdir(), 'puhui-oracle-'))
  const source = join(dir, 'annuities.fods')
  writeFileSync(source, buildDocument(buildRows()))
  execFileSync('libreoffice', ['--headless', `-env:UserInstallation=file://${dir}/profile`, '--convert-to', 'csv', '--outdir', dir, source], { stdio: 'inherit' })
  const table = parseCsv(readFileSync(join(dir, 'annuities.csv'), 'utf8'))
  const golden = cases.map((c) => {
    const lines = table.filter((line) => line[0] === c.id)
    const head = lines.find((line) => line[1] === 'pmt')
    if (head === undefined) throw new Error(`no PMT row for ${c.id}`)
    const rows = lines.filter((line) => line[1] !== 'pmt').map((line) => ({
      n: Number.parseInt(line[1] ?? '', 10), ipmt: line[2], ppmt: line[3], interest: line[5], principal: line[6],
    }))
    return { ...c, pmt: head[2], emi: head[3], rows }
  })
  const out = join(import.meta.dirname, '..', 'test', 'golden', 'schedules', 'annuity-oracle.json')
  writeFileSync(out, `${JSON.stringify({ generator: 'scripts/gen-schedule-goldens.ts (LibreOffice Calc PMT/IPMT/PPMT/ROUND)', cases: golden }, null, 2)}\n`)
  process.stderr.write(`wrote ${out}\n`)
}

main()
