/**
 * What is known of a customer at signup (the cold-start classifier's input), and the adapter
 * that builds it from a feature table's attributes and two of its lens labels.
 */
import type { CustomerAttributes } from '../02-features/features.ts';

/** What is known of each customer at signup, columnar, all of length n; NaN or null = missing. */
export interface SignupAttributes {
  /** The industry lens label (raw codes already mapped by the lens rules). */
  industry: string[];
  /** The buyer-role lens label. */
  buyerRole: string[];
  region: (string | null)[];
  deployment: (string | null)[];
  edition: (string | null)[];
  employees: Float64Array;
  annualRevenue: Float64Array;
  foundedYear: Float64Array;
  /** YYYY-MM-DD. */
  signupDate: (string | null)[];
}

/**
 * The two lens labels cold start reads, shape (n) each: industry and buyer role as the categorize
 * stage labels them (a CustomerLenses has this shape). Declared structurally here, so classify
 * imports no later stage.
 */
export interface SignupLensLabels {
  industry: string[];
  buyerRole: string[];
}

/** The signup attributes of a feature table's customers, with industry and buyer role as their lens labels. */
export function signupAttributes(attributes: CustomerAttributes, lenses: SignupLensLabels): SignupAttributes {
  return {
    industry: lenses.industry,
    buyerRole: lenses.buyerRole,
    region: attributes.region,
    deployment: attributes.deployment,
    edition: attributes.edition,
    employees: attributes.employees,
    annualRevenue: attributes.annualRevenue,
    foundedYear: attributes.foundedYear,
    signupDate: attributes.signupDate,
  };
}
