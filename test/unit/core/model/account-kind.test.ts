import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accountKind, roleAccountMismatch } from '../../../../src/core/model/account-kind.js';
import type { AccountFacts } from '../../../../src/core/model/account-kind.js';

const facts = (o: Partial<AccountFacts> = {}): AccountFacts => ({
  id: 'acme',
  resellerId: null,
  customers: 0,
  hosted: false,
  ...o,
});

test("an account's kind follows from what it holds", () => {
  const cases = [
    { name: 'holds nothing yet', f: facts(), want: 'new' },
    { name: 'hosts services, no customers', f: facts({ hosted: true }), want: 'customer' },
    { name: "a reseller's customer", f: facts({ resellerId: 'northwind' }), want: 'customer' },
    { name: 'has customers', f: facts({ customers: 2 }), want: 'reseller' },
    { name: 'has customers and hosts its own site', f: facts({ customers: 1, hosted: true }), want: 'reseller' },
  ] as const;
  for (const c of cases) assert.equal(accountKind(c.f), c.want, c.name);
});

test('a console user’s role and account are checked together', () => {
  const cases = [
    { name: 'reseller on a new account', role: 'reseller', f: facts(), want: null },
    { name: 'reseller on an account with customers', role: 'reseller', f: facts({ customers: 1 }), want: null },
    {
      name: 'reseller on a hosting customer',
      role: 'reseller',
      f: facts({ hosted: true }),
      want: /customer's account \(it has services of its own and no customer accounts\)/,
    },
    {
      name: "reseller on a reseller's customer",
      role: 'reseller',
      f: facts({ resellerId: 'northwind' }),
      want: /customer of reseller northwind/,
    },
    { name: 'customer on a hosting customer', role: 'customer', f: facts({ hosted: true }), want: null },
    { name: 'customer on a new account', role: 'customer', f: facts(), want: null },
    {
      name: "customer on a reseller's account",
      role: 'customer',
      f: facts({ customers: 1 }),
      want: /reseller's account \(it has 1 customer account\)/,
    },
    { name: 'operator (checked elsewhere)', role: 'operator', f: facts({ hosted: true }), want: null },
  ] as const;
  for (const c of cases) {
    const e = roleAccountMismatch(c.role, c.f);
    if (c.want === null) {
      assert.equal(e, null, c.name);
      continue;
    }
    assert.ok(e, c.name);
    assert.equal(e.code, 'E_VALIDATION', c.name);
    assert.match(e.message, c.want, c.name);
    assert.deepEqual(
      e.fields?.map((f) => f.field),
      ['body.role', 'body.accountId'],
      c.name,
    );
  }
});
