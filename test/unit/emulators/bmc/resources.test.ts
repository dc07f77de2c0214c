// Redfish message building and parsing, and the emulator's PATCH/Reset validation, without a
// server: every rule the conformance suite relies on, table by table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { redfishError, redfishErrorText, REDFISH_MESSAGES } from '../../../../src/drivers/bmc/index.js';
import { redfishMessage } from '../../../../src/drivers/bmc/messages.js';
import { checkReset, checkSystemPatch, computerSystem, isHttpUri } from '../../../../src/emulators/bmc/resources.js';
import type { MachineView } from '../../../../src/emulators/bmc/machine.js';

test('redfishMessage fills the registry template and names the related properties', () => {
  const m = redfishMessage(
    'PropertyValueNotInList',
    ['Floppy', 'BootSourceOverrideTarget'],
    ['#/Boot/BootSourceOverrideTarget'],
  );
  assert.equal(m.MessageId, 'Base.1.16.0.PropertyValueNotInList');
  assert.equal(
    m.Message,
    "The value 'Floppy' for the property BootSourceOverrideTarget is not in the list of acceptable values.",
  );
  assert.deepEqual(m.RelatedProperties, ['#/Boot/BootSourceOverrideTarget']);
  assert.equal(m.Severity, 'Warning');
  for (const [id, def] of Object.entries(REDFISH_MESSAGES)) {
    const args = ['A', 'B', 'C'];
    const text = redfishMessage(id as keyof typeof REDFISH_MESSAGES, args).Message;
    assert.ok(!/%\d/.test(text), `${id} has no unfilled placeholder`);
    assert.ok(['OK', 'Warning', 'Critical'].includes(def.severity), id);
  }
});

test('redfishErrorText reads any vendor error body', () => {
  const cases = [
    {
      name: 'ours, one message',
      body: redfishError([redfishMessage('PropertyUnknown', ['Foo'], ['#/Foo'])]),
      want: 'The property Foo is not in the list of valid properties for the resource. (#/Foo)',
    },
    {
      name: 'ours, two messages',
      body: redfishError([
        redfishMessage('PropertyMissing', ['UserName']),
        redfishMessage('PropertyMissing', ['Password']),
      ]),
      want: 'The property UserName is a required property and must be included in the request.; The property Password is a required property and must be included in the request.',
    },
    {
      name: 'only MessageId',
      body: { error: { code: 'x', message: 'y', '@Message.ExtendedInfo': [{ MessageId: 'IDRAC.2.8.RAC0506' }] } },
      want: 'IDRAC.2.8.RAC0506',
    },
    {
      name: 'no ExtendedInfo',
      body: { error: { code: 'Base.1.0.GeneralError', message: 'Server is already powered ON.' } },
      want: 'Server is already powered ON.',
    },
    { name: 'only a code', body: { error: { code: 'Base.1.0.GeneralError' } }, want: 'Base.1.0.GeneralError' },
    { name: 'plain text', body: '  Service Unavailable \n', want: 'Service Unavailable' },
    { name: 'not an error', body: { Id: 'x' }, want: '' },
    { name: 'null', body: null, want: '' },
  ];
  for (const c of cases) assert.equal(redfishErrorText(c.body), c.want, c.name);
  fc.assert(fc.property(fc.anything(), (body) => typeof redfishErrorText(body) === 'string'));
});

test('checkSystemPatch accepts valid Boot changes and collects every problem of an invalid one', () => {
  const ok = [
    {
      name: 'pointer',
      body: {
        Boot: {
          BootSourceOverrideEnabled: 'Once',
          BootSourceOverrideTarget: 'UefiHttp',
          HttpBootUri: 'http://10.0.0.1:8080/boot/abc',
        },
      },
      want: { enabled: 'Once', target: 'UefiHttp', httpBootUri: 'http://10.0.0.1:8080/boot/abc' },
    },
    {
      name: 'clear',
      body: { Boot: { BootSourceOverrideEnabled: 'Disabled', HttpBootUri: null } },
      want: { enabled: 'Disabled', httpBootUri: null },
    },
    { name: 'empty uri clears', body: { Boot: { HttpBootUri: '' } }, want: { httpBootUri: null } },
    { name: 'mode UEFI is accepted', body: { Boot: { BootSourceOverrideMode: 'UEFI' } }, want: {} },
    { name: 'odata annotations ignored', body: { '@odata.etag': 'W/"1"', Boot: {} }, want: {} },
  ];
  for (const c of ok) {
    const r = checkSystemPatch(c.body);
    assert.ok(r.ok, c.name);
    if (r.ok) assert.deepEqual(r.patch.boot, c.want, c.name);
  }
  const r = checkSystemPatch({
    Boot: { BootSourceOverrideEnabled: 'Twice', HttpBootUri: 'gopher://x' },
    UUID: 'x',
    Nope: 1,
  });
  assert.equal(r.ok, false);
  if (!r.ok) {
    assert.deepEqual(
      r.messages.map((m) => [m.MessageId.split('.').pop(), m.RelatedProperties?.[0]]),
      [
        ['PropertyValueNotInList', '#/Boot/BootSourceOverrideEnabled'],
        ['PropertyValueFormatError', '#/Boot/HttpBootUri'],
        ['PropertyNotWritable', '#/UUID'],
        ['PropertyUnknown', '#/Nope'],
      ],
    );
  }
  for (const body of [null, [], 'x', 3]) assert.equal(checkSystemPatch(body).ok, false);
});

test('isHttpUri accepts what UEFI HTTP boot can fetch', () => {
  const cases = [
    { input: 'http://boot.example/p/1', want: true },
    { input: 'https://[fd00::1]:8443/p', want: true },
    { input: 'ftp://x/y', want: false },
    { input: 'file:///etc/passwd', want: false },
    { input: '/relative', want: false },
    { input: 'http://', want: false },
    { input: `http://x/${'a'.repeat(2100)}`, want: false },
  ];
  for (const c of cases) assert.equal(isHttpUri(c.input), c.want, c.input);
});

test('checkReset', () => {
  const cases = [
    { name: 'On', body: { ResetType: 'On' }, want: 'On' },
    { name: 'PowerCycle', body: { ResetType: 'PowerCycle' }, want: 'PowerCycle' },
    { name: 'no body', body: undefined, want: 'ActionParameterMissing' },
    { name: 'empty', body: {}, want: 'ActionParameterMissing' },
    { name: 'Nmi unsupported', body: { ResetType: 'Nmi' }, want: 'ActionParameterValueNotInList' },
    { name: 'lower case', body: { ResetType: 'on' }, want: 'ActionParameterValueNotInList' },
    { name: 'extra', body: { ResetType: 'On', Delay: 3 }, want: 'ActionParameterUnknown' },
    { name: 'array', body: ['On'], want: 'MalformedJSON' },
  ];
  for (const c of cases) {
    const r = checkReset(c.body);
    if (r.ok) assert.equal(r.type, c.want, c.name);
    else
      assert.ok(
        r.messages.some((m) => m.MessageId.endsWith(`.${c.want}`)),
        `${c.name}: ${JSON.stringify(r.messages)}`,
      );
  }
});

test('computerSystem reflects power, health and the installed personality', () => {
  const view = (over: Partial<MachineView>): MachineView => ({
    record: {
      id: 'm1',
      uuid: 'u-1',
      dataPort: 9001,
      power: 'On',
      powerRestorePolicy: 'LastState',
      boot: { enabled: 'Once', target: 'UefiHttp', httpBootUri: 'http://b/1' },
      installed: null,
    },
    powerState: 'On',
    health: 'OK',
    dataAddress: '127.0.0.1:9001',
    workloadPid: 42,
    bootError: null,
    version: 7,
    ...over,
  });
  const cases = [
    { name: 'on', v: view({}), state: 'Enabled', health: 'OK' },
    { name: 'off', v: view({ powerState: 'Off', workloadPid: null }), state: 'StandbyOffline', health: 'OK' },
    { name: 'booting', v: view({ powerState: 'PoweringOn' }), state: 'Starting', health: 'OK' },
    {
      name: 'crashed',
      v: view({ health: 'Critical', bootError: 'workload exited' }),
      state: 'Enabled',
      health: 'Critical',
    },
  ];
  for (const c of cases) {
    const s = computerSystem(c.v);
    assert.deepEqual(s.Status, { State: c.state, Health: c.health }, c.name);
    assert.equal(s['@odata.etag'], 'W/"7"');
    assert.equal(s['@odata.id'], '/redfish/v1/Systems/m1');
  }
  const oem = (computerSystem(view({})).Oem as Record<string, Record<string, unknown>>).Hostfleet;
  assert.deepEqual([oem?.DataAddress, oem?.WorkloadPid, oem?.Installed], ['127.0.0.1:9001', 42, null]);
});
