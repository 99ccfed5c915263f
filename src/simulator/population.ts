/**
 * @module simulator/population
 * A synthetic population of small and micro enterprises (pure): sector, region, size, seasonality, a
 * latent quality that drives margins, volatility, shock sensitivity and honesty, an initial cash buffer,
 * and owner links (a few owners run several firms). Each firm is drawn from its own keyed stream, so firm
 * i is the same whatever the population's size.
 */
import { Temporal } from 'temporal-polyfill'
import { usccCheckCharacter } from '../credit/index.ts'
import { streamOf } from './prng.ts'

export type Sector = { readonly name: string; readonly zh: string; readonly goods: boolean; readonly consumer: boolean; readonly seasonality: number; readonly orderValueYuan: number }

export const simulatedSectors: readonly Sector[] = [
  { name: 'apparel e-commerce', zh: '服饰', goods: true, consumer: true, seasonality: 0.3, orderValueYuan: 180 },
  { name: 'wholesale trade', zh: '商贸', goods: true, consumer: false, seasonality: 0.15, orderValueYuan: 2_400 },
  { name: 'catering', zh: '餐饮', goods: false, consumer: true, seasonality: 0.25, orderValueYuan: 85 },
  { name: 'hardware manufacturing', zh: '五金制品', goods: true, consumer: false, seasonality: 0.1, orderValueYuan: 6_500 },
  { name: 'electronics retail', zh: '电子', goods: true, consumer: true, seasonality: 0.2, orderValueYuan: 650 },
  { name: 'agricultural products', zh: '农产品', goods: true, consumer: true, seasonality: 0.4, orderValueYuan: 120 },
  { name: 'home furnishing', zh: '家居', goods: true, consumer: true, seasonality: 0.15, orderValueYuan: 900 },
  { name: 'logistics services', zh: '物流', goods: false, consumer: false, seasonality: 0.12, orderValueYuan: 1_500 },
]

export const simulatedRegions = [
  { name: '浙江省杭州市', city: '杭州', code: '330100' },
  { name: '浙江省义乌市', city: '义乌', code: '330782' },
  { name: '广东省东莞市', city: '东莞', code: '441900' },
  { name: '广东省深圳市', city: '深圳', code: '440300' },
  { name: '江苏省苏州市', city: '苏州', code: '320500' },
  { name: '四川省成都市', city: '成都', code: '510100' },
  { name: '福建省泉州市', city: '泉州', code: '350500' },
  { name: '山东省临沂市', city: '临沂', code: '371300' },
] as const

const brandWords = ['云织', '恒达', '鑫源', '锦程', '佳和', '宏图', '新禾', '瑞丰', '华茂', '盛隆', '安信', '鼎盛', '星河', '兴旺', '立信', '同创'] as const
const legalSuffix = ['有限公司', '商行', '经营部', '厂'] as const

export type FirmSize = 'micro' | 'small' | 'medium'

export type Firm = {
  readonly index: number
  readonly name: string
  readonly uscc: string
  readonly sector: Sector
  readonly region: (typeof simulatedRegions)[number]
  readonly size: FirmSize
  readonly foundedOn: string
  readonly legalForm: 'company' | 'sole_proprietor' | 'individual_business'
  /** Latent quality in (0, 1): never shown to the lender, drives everything that makes a good borrower. */
  readonly quality: number
  /** Typical monthly sales, yuan. */
  readonly baseRevenueYuan: number
  readonly margin: number
  readonly volatility: number
  readonly seasonAmplitude: number
  readonly peakMonth: number
  readonly growthPerMonth: number
  /** Share of costs that do not fall with sales (rent, wages): what makes a sales shock burn cash. */
  readonly fixedCostShare: number
  /** How hard a shock of severity 1 hits this firm's sales (0 = not at all, 1 = all of it). */
  readonly shockSensitivity: number
  readonly initialCashMonths: number
  readonly refundRate: number
  readonly declareRatio: number
  readonly topBuyerShare: number
  readonly filesLate: number
  /** Monthly chance of walking away from its debts whatever its cash (fraud, the owner gives up). */
  readonly walkAwayHazard: number
  /** Monthly chance of a setback of its own (a lost buyer or platform listing, an illness): sales fall hard for a few months. */
  readonly setbackHazard: number
  /** The owner's key: firms sharing it share an owner (the owner-link graph). */
  readonly ownerKey: number
}

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x))
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x))
const usccAlphabet = '0123456789ABCDEFGHJKLMNPQRTUWXY'

/** A unique, valid unified social credit code for firm `index` under `seed`. */
function usccOf(seed: number, index: number, regionCode: string): string {
  let n = index
  let body = ''
  for (let i = 0; i < 8; i++) {
    body = (usccAlphabet[n % 31] as string) + body
    n = Math.floor(n / 31)
  }
  const seedChar = usccAlphabet[seed % 31] as string
  const first17 = `91${regionCode}${seedChar}${body}`
  return `${first17}${usccCheckCharacter(first17) as string}`
}

/** Firm `index` of the population under `seed`, founded before `start` (an ISO date). */
export function generateFirm(seed: number, index: number, start: string): Firm {
  const r = streamOf(seed, index, -1, 'population')
  const sector = r.pick(simulatedSectors)
  const region = r.pick(simulatedRegions)
  const sizeDraw = r.next()
  const size: FirmSize = sizeDraw < 0.62 ? 'micro' : sizeDraw < 0.92 ? 'small' : 'medium'
  const scale = { micro: 60_000, small: 320_000, medium: 1_400_000 }[size]
  const quality = sigmoid(1.1 * r.normal() + 0.9)
  const ageMonths = Math.round(6 + 170 * r.next() ** 1.6)
  const foundedOn = Temporal.PlainDate.from(start).subtract({ months: ageMonths, days: r.int(28) }).toString()
  // Owner links: about 7 % of firms belong to an owner who already runs an earlier firm.
  const ownerKey = index > 0 && r.chance(0.07) ? Math.max(0, index - 1 - r.int(Math.min(index, 40))) : index
  const legalForm = size === 'micro' ? (r.chance(0.6) ? 'individual_business' : 'sole_proprietor') : 'company'
  const brand = r.pick(brandWords)
  const suffix = legalForm === 'company' ? legalSuffix[0] : r.pick(legalSuffix.slice(1))
  return {
    index,
    name: `${region.city}${brand}${sector.zh}${suffix}${index + 1}号`,
    uscc: usccOf(seed, index, region.code),
    sector,
    region,
    size,
    foundedOn,
    legalForm,
    quality,
    baseRevenueYuan: scale * Math.exp(0.5 * r.normal()),
    margin: clamp(0.02 + 0.2 * quality + 0.03 * r.normal(), -0.03, 0.32),
    volatility: 0.05 + 0.28 * (1 - quality) * r.next(),
    seasonAmplitude: sector.seasonality * (0.5 + r.next()),
    peakMonth: r.int(12),
    growthPerMonth: 0.004 + 0.01 * r.normal() * (1.2 - quality),
    fixedCostShare: 0.3 + 0.35 * r.next(),
    shockSensitivity: clamp(0.65 + 0.5 * (1 - quality) + 0.15 * r.normal(), 0.2, 1),
    initialCashMonths: 0.35 + 0.65 * r.next(),
    refundRate: clamp(0.01 + 0.12 * (1 - quality) * r.next() ** 2, 0, 0.4),
    declareRatio: r.chance(0.12 * (1 - quality)) ? 0.3 + 0.3 * r.next() : 0.85 + 0.2 * r.next(),
    topBuyerShare: sector.consumer ? 0.02 + 0.08 * r.next() : clamp(0.08 + 0.7 * r.next() ** 3, 0, 0.95),
    filesLate: 0.4 * (1 - quality) * r.next(),
    walkAwayHazard: 0.002 + 0.04 * (1 - quality) ** 2,
    setbackHazard: 0.008 + 0.03 * (1 - quality) ** 2,
    ownerKey,
  }
}

export function generatePopulation(seed: number, count: number, start: string): Firm[] {
  return Array.from({ length: count }, (_, index) => generateFirm(seed, index, start))
}

/** A synthetic resident identity number for an owner key (18 characters, valid check digit; not a real person). */
export function ownerIdNumber(seed: number, ownerKey: number): string {
  const r = streamOf(seed, ownerKey, -1, 'owners')
  const region = simulatedRegions[ownerKey % simulatedRegions.length]?.code as string
  const born = Temporal.PlainDate.from('1960-01-01').add({ days: r.int(365 * 38) }).toString().replaceAll('-', '')
  const first17 = `${region}${born}${String(r.int(1000)).padStart(3, '0')}`
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
  let sum = 0
  for (let i = 0; i < 17; i++) sum += Number.parseInt(first17[i] as string, 10) * (weights[i] as number)
  return `${first17}${'10X98765432'[sum % 11] as string}`
}

export function ownerPhone(seed: number, ownerKey: number): string {
  const r = streamOf(seed, ownerKey, -2, 'owners')
  return `13${r.int(10)}${String(r.int(100_000_000)).padStart(8, '0')}`
}

const surnames = ['王', '李', '张', '刘', '陈', '杨', '黄', '赵', '周', '吴', '徐', '孙'] as const
const givenNames = ['伟', '芳', '娜', '敏', '静', '强', '磊', '洋', '艳', '勇', '军', '杰', '娟', '涛', '明'] as const
export function ownerName(seed: number, ownerKey: number): string {
  const r = streamOf(seed, ownerKey, -3, 'owners')
  return `${r.pick(surnames)}${r.pick(givenNames)}${r.chance(0.5) ? r.pick(givenNames) : ''}`
}
