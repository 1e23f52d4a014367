import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { fakeServer, graphQLErrors } from '../../testing/fakeServer';
import { MappingDialog, type TypeChoice } from './MappingDialog';

const TYPES: TypeChoice[] = [
  {
    id: '1',
    name: 'Intronis Backup',
    products: [
      {
        id: '10',
        name: 'Intronis Backup Plan',
        // Listed as the server sorts them (by string); the dialog lists them naturally.
        plans: [
          { id: '100', uniqueId: 'IB-100', name: 'IB-100', baseSizeGb: 100, blockSizeGb: null },
          { id: '102', uniqueId: 'IB-1TB', name: 'Backup 1 TB', baseSizeGb: 1000, blockSizeGb: 100 },
          { id: '101', uniqueId: 'IB-500', name: 'IB-500', baseSizeGb: 500, blockSizeGb: 50 },
        ],
        metrics: [
          { crossReferenceType: 'BackupUsage', unit: 'GB' },
          { crossReferenceType: 'QuickSpin', unit: 'COUNT' },
        ],
        // IB-1TB is mapped already.
        mappings: [{ id: '7', allPlans: false, plan: { id: '102' }, level: { name: 'Gold' } }],
      },
    ],
  },
  { id: '2', name: 'Email Protection', products: [{ id: '20', name: 'Sentinel Service', plans: [], metrics: [], mappings: [] }] },
];

const crossReference = (vendorType: string, active = true) => ({ vendorType, active, agreementTypeName: 'Managed Backup', productIdentifier: 'IB' });

/** Synced levels: Gold covers both metrics, Silver only BackupUsage, Premium's QuickSpin is inactive. */
const LEVELS = [
  { name: '1', crossReferences: [crossReference('BackupUsage'), crossReference('QuickSpin')] },
  { name: 'Gold', crossReferences: [crossReference('BackupUsage'), crossReference('QuickSpin')] },
  { name: 'Silver', crossReferences: [crossReference('BackupUsage')] },
  { name: 'Premium', crossReferences: [crossReference('BackupUsage'), crossReference('QuickSpin', false)] },
];

function open() {
  const onClose = vi.fn();
  const onSaved = vi.fn();
  render(<MappingDialog types={TYPES} levels={LEVELS} onClose={onClose} onSaved={onSaved} />);
  const dialog = within(screen.getByRole('dialog', { name: 'Add Billing Mapping' }));
  const controls = {
    type: dialog.getByLabelText('Type') as HTMLSelectElement,
    product: dialog.getByLabelText('Product/Services') as HTMLSelectElement,
    plan: dialog.getByLabelText('Unique ID/Plan') as HTMLSelectElement,
    level: dialog.getByLabelText('Level') as HTMLInputElement,
    total: dialog.getByRole('radio', { name: 'Total usage' }) as HTMLInputElement,
    additional: dialog.getByRole('radio', { name: 'Additional usage' }) as HTMLInputElement,
    confirm: dialog.getByRole('button', { name: 'Confirm' }) as HTMLButtonElement,
    cancel: dialog.getByRole('button', { name: 'Cancel' }),
  };
  return { dialog, controls, onClose, onSaved, user: userEvent.setup() };
}

const saved = (warnings: string[] = []) => ({ addBillingMapping: { mapping: { id: '9' }, warnings } });

describe('Add Billing Mapping cascade', () => {
  it('enables each choice only once the one before it has a value', async () => {
    fakeServer({});
    const { controls: c, user } = open();
    const disabled = () => [c.product, c.plan, c.level, c.total, c.additional, c.confirm].map((el) => el.disabled);

    expect(c.type.disabled).toBe(false);
    expect(disabled()).toEqual([true, true, true, true, true, true]);

    await user.selectOptions(c.type, 'Intronis Backup');
    expect(disabled()).toEqual([false, true, true, true, true, true]);

    await user.selectOptions(c.product, 'Intronis Backup Plan');
    // The plan starts at (All plans), which is a value: Level opens at once.
    expect(c.plan.options[0].text).toBe('(All plans)');
    expect(c.plan.value).not.toBe('');
    expect(disabled()).toEqual([false, false, false, true, true, true]);

    await user.type(c.level, 'Gold');
    expect(disabled()).toEqual([false, false, false, false, false, true]);

    await user.click(c.total);
    expect(disabled()).toEqual([false, false, false, false, false, false]);

    // Choosing another type starts the product over.
    await user.selectOptions(c.type, 'Email Protection');
    expect(c.product.value).toBe('');
    expect(c.plan.disabled).toBe(true);
    expect(c.confirm.disabled).toBe(true);
  });

  it('confirms (All plans) with allPlans and no plan', async () => {
    const calls = fakeServer({ AddBillingMapping: () => saved(['Level “1” has no cross-reference for QuickSpin']) });
    const { controls: c, user, onSaved } = open();

    await user.selectOptions(c.type, 'Intronis Backup');
    await user.selectOptions(c.product, 'Intronis Backup Plan');
    await user.type(c.level, '1');
    await user.click(c.total);
    await user.click(c.confirm);

    expect(calls).toHaveLength(1);
    expect(calls[0].operation).toBe('AddBillingMapping');
    expect(calls[0].variables).toEqual({
      input: { productId: '10', allPlans: true, level: '1', usageValue: 'TOTAL_USAGE' },
    });
    expect(calls[0].headers).toMatchObject({ 'Content-Type': 'application/json', 'X-Billbridge-Csrf': '1' });
    expect(onSaved).toHaveBeenCalledWith(['Level “1” has no cross-reference for QuickSpin']);
  });

  it('confirms a plan with its id, and explains additional usage with that plan', async () => {
    const calls = fakeServer({ AddBillingMapping: () => saved() });
    const { controls: c, user, dialog } = open();

    await user.selectOptions(c.type, 'Intronis Backup');
    await user.selectOptions(c.product, 'Intronis Backup Plan');
    await user.selectOptions(c.plan, 'IB-500');
    await user.type(c.level, 'Gold');
    await user.click(c.additional);

    // 625 GB on a 500 GB plan is 125 GB over: three 50 GB blocks.
    expect(dialog.getByText(/IB-500 \(500 GB base, 50 GB blocks\) using 625 GB sends 150 GB/)).toBeTruthy();
    expect(dialog.getByText(/only the usage over the base plan size/)).toBeTruthy();

    await user.click(c.confirm);
    expect(calls.map((call) => call.variables)).toEqual([{ input: { productId: '10', planId: '101', level: 'Gold', usageValue: 'ADDITIONAL_USAGE' } }]);
  });

  it('answers a refused level in an alert that takes focus, with one suggestion and a button to use it', async () => {
    let answer: unknown = graphQLErrors({
      message: 'level "premium" has no cross-reference in ConnectWise (levels are case-sensitive); did you mean "Premium"?',
      extensions: { code: 'BAD_USER_INPUT', field: 'level', suggestion: 'Premium' },
    });
    const calls = fakeServer({ AddBillingMapping: () => answer });
    const { controls: c, user, dialog, onSaved, onClose } = open();

    await user.selectOptions(c.type, 'Intronis Backup');
    await user.selectOptions(c.product, 'Intronis Backup Plan');
    await user.selectOptions(c.plan, 'IB-100');
    await user.type(c.level, 'premium');
    await user.click(c.additional);
    await user.click(c.confirm);

    const alert = await dialog.findByRole('alert');
    expect(document.activeElement).toBe(alert);
    expect(alert.textContent).toMatch(/^Not saved\. level "premium" has no cross-reference/);
    // The suggestion is said once; the button applies it.
    expect(alert.textContent?.match(/did you mean/gi)).toHaveLength(1);
    expect(c.level.getAttribute('aria-invalid')).toBe('true');
    expect(onSaved).not.toHaveBeenCalled();

    await user.click(within(alert).getByRole('button', { name: 'Use “Premium”' }));
    expect(c.level.value).toBe('Premium');
    expect(dialog.queryByRole('alert')).toBeNull();

    answer = saved();
    await user.click(c.confirm);
    expect(calls.map((call) => (call.variables.input as { level: string }).level)).toEqual(['premium', 'Premium']);
    expect(onSaved).toHaveBeenCalledOnce();
    expect(onClose).not.toHaveBeenCalled();
  });

  it('lists plans in natural order and marks those already mapped', async () => {
    fakeServer({});
    const { controls: c, user } = open();
    await user.selectOptions(c.type, 'Intronis Backup');
    await user.selectOptions(c.product, 'Intronis Backup Plan');
    expect([...c.plan.options].map((o) => o.text)).toEqual(['(All plans)', 'IB-100', 'IB-500', 'IB-1TB — Backup 1 TB (already mapped)']);
  });

  it('warns before Confirm about a plan already mapped and metrics the level has no cross-reference for', async () => {
    fakeServer({});
    const { controls: c, user, dialog } = open();
    await user.selectOptions(c.type, 'Intronis Backup');
    await user.selectOptions(c.product, 'Intronis Backup Plan');
    await user.type(c.level, 'Gold');
    expect(dialog.queryByText('Before you confirm:')).toBeNull();

    await user.clear(c.level);
    await user.type(c.level, 'Silver');
    const warned = () => dialog.getByText('Before you confirm:').closest('.alert') as HTMLElement;
    expect(warned().className).toContain('alert--warn');
    expect(warned().textContent).toContain('No active ConnectWise cross-reference for level “Silver”: QuickSpin — it is skipped when pushing.');

    // An inactive cross-reference does not count.
    await user.clear(c.level);
    await user.type(c.level, 'Premium');
    expect(warned().textContent).toContain('level “Premium”: QuickSpin');

    await user.clear(c.level);
    await user.type(c.level, 'Gold');
    await user.selectOptions(c.plan, 'IB-1TB — Backup 1 TB (already mapped)');
    expect(warned().textContent).toContain('IB-1TB already has a billing mapping (level “Gold”)');
    // The warnings come right before the footer's Confirm, pinned outside the scrolling body.
    expect(warned().compareDocumentPosition(c.confirm) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();
    expect(warned().closest('.dialog-body')).toBeNull();
  });

  it('names nothing missing while levels were never synced', async () => {
    fakeServer({});
    const user = userEvent.setup();
    render(<MappingDialog types={TYPES} levels={[{ name: 'Silver', crossReferences: [] }]} onClose={vi.fn()} onSaved={vi.fn()} />);
    const dialog = within(screen.getByRole('dialog'));
    await user.selectOptions(dialog.getByLabelText('Type'), 'Intronis Backup');
    await user.selectOptions(dialog.getByLabelText('Product/Services'), 'Intronis Backup Plan');
    await user.type(dialog.getByLabelText('Level'), 'Silver');
    expect(dialog.queryByText('Before you confirm:')).toBeNull();
  });

  it('cancels without sending anything', async () => {
    const calls = fakeServer({ AddBillingMapping: () => saved() });
    const { controls: c, user, onClose, onSaved } = open();

    await user.selectOptions(c.type, 'Intronis Backup');
    await user.selectOptions(c.product, 'Intronis Backup Plan');
    await user.type(c.level, 'Gold');
    await user.click(c.total);
    await user.click(c.cancel);

    expect(onClose).toHaveBeenCalledOnce();
    expect(onSaved).not.toHaveBeenCalled();
    expect(calls).toEqual([]);
  });

  it('edits a mapping with its type and product fixed', async () => {
    const calls = fakeServer({ UpdateBillingMapping: () => ({ updateBillingMapping: { mapping: { id: '5' }, warnings: [] } }) });
    const onSaved = vi.fn();
    const user = userEvent.setup();
    render(
      <MappingDialog
        types={TYPES}
        levels={[]}
        editing={{ id: '5', typeId: '1', productId: '10', planId: '100', level: 'Gold', usageValue: 'TOTAL_USAGE' }}
        onClose={vi.fn()}
        onSaved={onSaved}
      />,
    );
    const dialog = within(screen.getByRole('dialog', { name: 'Edit Billing Mapping' }));
    expect((dialog.getByLabelText('Type') as HTMLSelectElement).disabled).toBe(true);
    expect((dialog.getByLabelText('Product/Services') as HTMLSelectElement).disabled).toBe(true);
    expect((dialog.getByLabelText('Unique ID/Plan') as HTMLSelectElement).value).toBe('100');

    await user.selectOptions(dialog.getByLabelText('Unique ID/Plan'), '(All plans)');
    await user.click(dialog.getByRole('radio', { name: 'Additional usage' }));
    await user.click(dialog.getByRole('button', { name: 'Confirm' }));

    expect(calls.map((c) => [c.operation, c.variables])).toEqual([
      ['UpdateBillingMapping', { id: '5', input: { allPlans: true, level: 'Gold', usageValue: 'ADDITIONAL_USAGE' } }],
    ]);
    expect(onSaved).toHaveBeenCalledWith([]);
  });

  it('states the rounding rule next to the usage value', () => {
    open();
    const dialog = within(screen.getByRole('dialog', { name: 'Add Billing Mapping' }));
    expect(dialog.getByText(/rounded up to whole GB once/)).toBeTruthy();
    expect(dialog.getByText(/100\.2 and 10\.2 GB bill 111 GB, not 101 \+ 11/)).toBeTruthy();
  });
});
