/** The GraphQL `Money` value: integer minor units plus a display form. */
export interface Money {
  amount: number;
  currency: string;
  formatted: string;
}

const formatters = new Map<string, Intl.NumberFormat>();

export function money(amount: number, currency = 'USD'): Money {
  let format = formatters.get(currency);
  if (!format) formatters.set(currency, (format = new Intl.NumberFormat('en-US', { style: 'currency', currency })));
  return { amount, currency, formatted: format.format(amount / 100) };
}
