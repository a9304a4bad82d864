/**
 * "Brightline Consulting: Operations", the Coda doc of a small consulting business, as Coda's
 * API returns it with valueFormat=rich. Ids are stable: the transform and load stages and the
 * demo are written against them.
 *
 * Values include what real docs contain and what trips parsers: Markdown, plain text wrapped in
 * a code fence, emoji, tabs, newlines, backslashes and a Unicode line separator in text, empty
 * cells, multi-value and nested arrays, people without email, row references across tables,
 * images, hyperlinks, amounts of money as numbers and as formatted strings, dates and date-times
 * as strings.
 */
import type { FixtureColumn, FixtureColumnFormat, FixtureDoc } from './fixture-types.ts';
import { image, money, person, webPage } from './rich-values.ts';
import { tableDefiner } from './table-builder.ts';

export const FIXTURE_DOC_ID = 'hR7tK2mQxZ';

const defineTable = tableDefiner(FIXTURE_DOC_ID);

function column(id: string, name: string, format: FixtureColumnFormat, extra: Partial<FixtureColumn> = {}): FixtureColumn {
  return { id, name, format, ...extra };
}
const text = (isArray = false): FixtureColumnFormat => ({ type: 'text', isArray });
const select = (options: string[], isArray = false): FixtureColumnFormat => ({ type: 'select', isArray, options });
const lookup = (table: string, isArray = false): FixtureColumnFormat => ({ type: 'lookup', isArray, table });
const people = (isArray = false): FixtureColumnFormat => ({ type: 'person', isArray });
const number = (precision = 1): FixtureColumnFormat => ({ type: 'number', isArray: false, precision });
const date: FixtureColumnFormat = { type: 'date', isArray: false, format: 'YYYY-MM-DD' };
const dateTime: FixtureColumnFormat = { type: 'dateTime', isArray: false, dateFormat: 'YYYY-MM-DD', timeFormat: 'h:mm A' };
const checkbox: FixtureColumnFormat = { type: 'checkbox', isArray: false, displayType: 'check' };
const currency: FixtureColumnFormat = { type: 'currency', isArray: false, currencyCode: 'USD', precision: 2, currencyFormat: 'currency' };

/** Coda's rich date values: midnight in the doc's time zone. */
const day = (isoDate: string) => `${isoDate}T00:00:00.000-08:00`;
const at = (isoDateTime: string) => `${isoDateTime}.000-08:00`;

const STATUS_LIFECYCLE = ['Draft', 'Active', 'Deprecated'];

// The team, as Person values. Lena is a contractor outside the workspace: Coda omits her email.
const maya = person('Maya Okafor', 'maya@brightline.consulting');
const daniel = person('Daniel Brandt', 'daniel@brightline.consulting');
const priya = person('Priya Raman', 'priya@brightline.consulting');
const tomas = person('Tomás Herrera', 'tomas@brightline.consulting');
const lena = person('Lena Fischer');

export const peopleTable = defineTable({
  id: 'grid-pE0pl3Zq1',
  name: 'People',
  createdAt: '2023-01-09T15:02:11.000Z',
  columns: {
    fullName: column('c-Pn4mE7kQ2a', 'Full Name', text(), { display: true }),
    email: column('c-Pe9mA1lX3b', 'Email', { type: 'email', isArray: false }),
    handle: column('c-Ph4nD1eR5c', 'Handle', text()),
    role: column('c-Pr0lE8sT6d', 'Role', select(['Founder', 'Operations', 'Consultant', 'Designer', 'Contractor', 'Client contact'])),
    user: column('c-Pu5eR2cD7e', 'Coda User', people()),
    active: column('c-Pa7cT1vE8f', 'Active', checkbox),
    photo: column('c-Pp8hO3tO9g', 'Photo', { type: 'image', isArray: false }),
    notes: column('c-Pn0tE5sZ1h', 'Notes', text()),
  },
  rows: [
    { id: 'i-pMaya0Ok1', values: { fullName: 'Maya Okafor', email: 'maya@brightline.consulting', handle: '@maya', role: 'Founder', user: maya, active: true, photo: image('maya.jpg', 'https://codahosted.io/docs/hR7tK2mQxZ/blobs/bl-maya01/maya.jpg', 256, 256), notes: 'Founder; owns sales and **client relationships**.' } },
    { id: 'i-pDani3Br2', values: { fullName: 'Daniel Brandt', email: 'daniel@brightline.consulting', handle: '@dbrandt', role: 'Operations', user: daniel, active: true, notes: 'Runs finance & ops.\nBackup approver for invoices.' } },
    { id: 'i-pPriy4Ra3', values: { fullName: 'Priya Raman', email: 'priya@brightline.consulting', handle: '@priya', role: 'Consultant', user: priya, active: true } },
    { id: 'i-pToma5He4', values: { fullName: 'Tomás Herrera', email: 'tomas@brightline.consulting', handle: '@tomas', role: 'Designer', user: tomas, active: true, notes: 'Service design 🎨' } },
    { id: 'i-pLena6Fi5', values: { fullName: 'Lena Fischer', handle: '@lena.f', role: 'Contractor', user: lena, active: true, notes: 'Freelance data engineer, invoices monthly.' } },
    { id: 'i-pSamO7Ne6', values: { fullName: "Sam O'Neill", email: 'sam.oneill@northwind-analytics.com', role: 'Client contact', active: true } },
    { id: 'i-pAnaL8im7', values: { fullName: 'Ana Lima', email: 'ana.lima@verdepath.org', role: 'Client contact', active: true, notes: 'Prefers Portuguese for workshops.' } },
    { id: 'i-pJord9Bl8', values: { fullName: 'Jordan Blake', email: 'JORDAN.BLAKE@Harborline.io', role: 'Client contact', active: false, notes: 'Left Harborline in 2024; see Wei.' } },
    { id: 'i-pWeiZh0a9', values: { fullName: 'Wei Zhang', email: 'wei.zhang@harborline.io', role: 'Client contact', active: true } },
    { id: 'i-pFati1Al0', values: { fullName: 'Fatima Al-Sayed', email: 'fatima@kestrel.vc', role: 'Client contact', active: true, notes: 'Intro via Maya\t(2023 offsite)' } },
  ],
});

export const organizationsTable = defineTable({
  id: 'grid-0rgS4nTx2',
  name: 'Organizations',
  createdAt: '2023-01-09T15:20:45.000Z',
  columns: {
    name: column('c-On4mE1oR2a', 'Name', text(), { display: true }),
    kind: column('c-Ok1nD2tY3b', 'Type', select(['Client', 'Prospect', 'Partner', 'Vendor'])),
    website: column('c-Ow3bS1tE4c', 'Website', { type: 'link', isArray: false, display: 'title' }),
    industry: column('c-Oi5nD7sY5d', 'Industry', select(['Analytics', 'Non-profit', 'Logistics', 'Venture capital', 'Software', 'Retail'])),
    country: column('c-Oc0uN7rY6e', 'Country', text()),
    contact: column('c-Op1cO2nT7f', 'Primary Contact', lookup('grid-pE0pl3Zq1')),
    logo: column('c-Ol0gO9iM8g', 'Logo', { type: 'image', isArray: false }),
    notes: column('c-On0tE3sO9h', 'Notes', text()),
  },
  rows: [
    { id: 'i-oNorthw1A', values: { name: 'Northwind Analytics', kind: 'Client', website: webPage('https://northwind-analytics.com', 'northwind-analytics.com'), industry: 'Analytics', country: 'United States', contact: peopleTable.ref('i-pSamO7Ne6'), logo: image('northwind.png', 'https://codahosted.io/docs/hR7tK2mQxZ/blobs/bl-nw01/northwind.png', 512, 128) } },
    { id: 'i-oVerdep2B', values: { name: 'VerdePath Foundation', kind: 'Client', website: webPage('https://verdepath.org'), industry: 'Non-profit', country: 'Brazil', contact: peopleTable.ref('i-pAnaL8im7'), notes: 'Grant-funded: invoices need a **PO number**.' } },
    { id: 'i-oHarbor3C', values: { name: 'Harborline Freight', kind: 'Client', website: webPage('https://harborline.io', 'Harborline'), industry: 'Logistics', country: 'Netherlands', contact: peopleTable.ref('i-pWeiZh0a9') } },
    { id: 'i-oKestre4D', values: { name: 'Kestrel Ventures', kind: 'Partner', website: webPage('https://kestrel.vc'), industry: 'Venture capital', country: 'United Kingdom', contact: peopleTable.ref('i-pFati1Al0') } },
    { id: 'i-oLumenS5E', values: { name: 'Lumen Software GmbH', kind: 'Prospect', industry: 'Software', country: 'Germany', notes: '```Met at Web Summit; follow up in Q3```' } },
    { id: 'i-oPaperT6F', values: { name: 'Paper Trail Books', kind: 'Prospect', industry: 'Retail', country: 'United States' } },
    { id: 'i-oAtlasC7G', values: { name: 'Atlas Cloud Hosting', kind: 'Vendor', website: webPage('https://atlascloud.example.com', 'Atlas Cloud'), industry: 'Software', country: 'Ireland', notes: 'Hosting for client dashboards; contract in C:\\Contracts\\Atlas\\2024.pdf' } },
    { id: 'i-oBright8H', values: { name: 'Brightline Consulting', kind: 'Partner', website: webPage('https://brightline.consulting', 'Brightline'), country: 'United States', contact: peopleTable.ref('i-pMaya0Ok1'), notes: 'Ourselves (internal projects).' } },
  ],
});

export const venturesTable = defineTable({
  id: 'grid-V3ntUr5s3',
  name: 'Ventures',
  createdAt: '2023-01-10T09:00:00.000Z',
  columns: {
    name: column('c-Vn4mE6vE1a', 'Name', text(), { display: true }),
    description: column('c-Vd3sC1pT2b', 'Description', text()),
    status: column('c-Vs7aT2uS3c', 'Status', select(['Incubating', 'Active', 'Paused', 'Closed'])),
    owner: column('c-Vo5wN3eR4d', 'Owner', people()),
    started: column('c-Vs8tA4rT5e', 'Started', date),
    tags: column('c-Vt4gS5vN6f', 'Tags', select(['consulting', 'product', 'research', 'internal', 'training'], true)),
  },
  rows: [
    { id: 'i-vConsul1A', values: { name: 'Brightline Advisory', description: '**Core consulting practice.**\n\nService design and operations work for clients.', status: 'Active', owner: maya, started: day('2023-01-10'), tags: ['consulting'] } },
    { id: 'i-vOpsKit2B', values: { name: 'OpsKit', description: 'Productised operations toolkit 🚀 sold as a subscription.', status: 'Incubating', owner: daniel, started: day('2024-02-01'), tags: ['product', 'research'] } },
    { id: 'i-vAcadem3C', values: { name: 'Brightline Academy', description: 'Workshops and training:\n- service blueprinting\n- process design', status: 'Active', owner: tomas, started: day('2023-06-15'), tags: ['training'] } },
    { id: 'i-vLabs004D', values: { name: 'Labs', description: '', status: 'Paused', owner: priya, started: day('2023-09-01'), tags: ['research', 'internal'] } },
    { id: 'i-vIntern5E', values: { name: 'Internal Operations', description: 'Finance, hiring, tooling.', status: 'Active', owner: daniel, started: day('2023-01-10'), tags: ['internal'] } },
    { id: 'i-vDataSt6F', values: { name: 'Data Studio', description: '```Dashboards & data pipelines for SMB clients```', status: 'Incubating', owner: lena, started: day('2024-04-08'), tags: ['consulting', 'product'] } },
    { id: 'i-vGrant07G', values: { name: 'Grant Writing Desk', description: 'Closed after the pilot; kept for history.', status: 'Closed', owner: priya, started: day('2023-03-01') } },
    { id: 'i-vPodcst8H', values: { name: 'Ops Talk Podcast', description: 'Monthly episode 🎙️', status: 'Paused', owner: maya, started: day('2023-11-20'), tags: ['internal', 'training'] } },
  ],
});

export const serviceBlueprintsTable = defineTable({
  id: 'grid-SbPr1nT54',
  name: 'Service Blueprints',
  createdAt: '2023-02-01T10:30:00.000Z',
  columns: {
    name: column('c-Sn4mE2bP1a', 'Name', text(), { display: true }),
    description: column('c-Sd3sC4rP2b', 'Description', text()),
    customerActions: column('c-Sc7sT5aC3c', 'Customer Actions', text()),
    frontstage: column('c-Sf9rN6tS4d', 'Frontstage', text()),
    backstage: column('c-Sb8cK7sT5e', 'Backstage', text()),
    supportProcesses: column('c-Ss5pP8rT6f', 'Support Processes', text()),
    evidence: column('c-Se6vD9nC7g', 'Evidence', text()),
    version: column('c-Sv3rS0oN8h', 'Version', text()),
    status: column('c-Ss1tA1tS9i', 'Status', select(STATUS_LIFECYCLE)),
    owner: column('c-So2wN2rR0j', 'Owner', people()),
  },
  rows: [
    { id: 'i-sDiscov1A', values: { name: 'Discovery Sprint', description: 'Two-week **discovery** engagement.', customerActions: 'Books intro call\nShares data access\nJoins 3 interviews', frontstage: 'Kickoff workshop; weekly readout', backstage: 'Interview synthesis; opportunity map', supportProcesses: 'Scheduling (Calendly); shared drive', evidence: 'Readout deck, opportunity map', version: '2.1', status: 'Active', owner: maya } },
    { id: 'i-sOpsAud2B', values: { name: 'Operations Audit', description: 'Review of a client\'s core processes with a scored report.', customerActions: 'Fills intake survey', frontstage: 'On-site interviews', backstage: 'Process mapping; scoring', supportProcesses: 'Survey tool', evidence: 'Audit report (PDF)', version: '1.4', status: 'Active', owner: daniel } },
    { id: 'i-sBlueWk3C', values: { name: 'Blueprint Workshop', description: 'Half-day workshop to map one service end to end.', customerActions: 'Brings 4-6 staff', frontstage: 'Facilitated session', backstage: 'Board prep; photo capture of wall', supportProcesses: 'Miro board template', evidence: 'Digitised blueprint', version: '3.0', status: 'Active', owner: tomas } },
    { id: 'i-sDashbd4D', values: { name: 'Dashboard Build', description: 'Data pipeline and dashboard for a KPI set.', customerActions: 'Grants read access to sources', frontstage: 'Weekly demo', backstage: 'ETL jobs; QA checks', supportProcesses: 'Atlas Cloud hosting', evidence: 'Live dashboard URL', version: '1.0', status: 'Draft', owner: lena } },
    { id: 'i-sRetain5E', values: { name: 'Ops Retainer', description: 'Monthly operations support.', customerActions: 'Files requests in shared board', frontstage: 'Monthly review call', backstage: 'Ticket triage', supportProcesses: 'Shared Coda board', evidence: 'Monthly report', version: '1.2', status: 'Active', owner: daniel } },
    { id: 'i-sLegacy6F', values: { name: 'Legacy Process Review', description: 'Superseded by Operations Audit.', version: '0.9', status: 'Deprecated', owner: maya } },
    { id: 'i-sTrainP7G', values: { name: 'Team Training Program', description: 'Four sessions on service design basics.', customerActions: 'Nominates participants', frontstage: 'Live sessions (remote)', backstage: 'Material prep', supportProcesses: 'LMS', evidence: 'Attendance + certificates', version: '1.1', status: 'Active', owner: tomas } },
    { id: 'i-sGrantA8H', values: { name: 'Grant Application Support', description: '', version: '0.3', status: 'Draft', owner: priya } },
  ],
});

export const workflowsTable = defineTable({
  id: 'grid-W0rkF1ow5',
  name: 'Workflows',
  createdAt: '2023-02-03T11:00:00.000Z',
  columns: {
    name: column('c-Wn4mE3wF1a', 'Name', text(), { display: true }),
    description: column('c-Wd3sC5wF2b', 'Description', text()),
    blueprint: column('c-Wb1pR6nT3c', 'Service Blueprint', lookup('grid-SbPr1nT54')),
    steps: column('c-Ws7tE7pS4d', 'Steps', text(true)),
    estimatedHours: column('c-We5tH8rS5e', 'Estimated Hours', number()),
    automation: column('c-Wa7tO9mA6f', 'Automation Status', select(['Manual', 'Semi-automated', 'Automated'])),
    version: column('c-Wv3rS0wF7g', 'Version', text()),
    status: column('c-Ws1tA1wF8h', 'Status', select(STATUS_LIFECYCLE)),
    owner: column('c-Wo2wN2wF9i', 'Owner', people()),
  },
  rows: [
    { id: 'i-wIntake1A', values: { name: 'Client Intake', description: 'From first call to signed SOW.', blueprint: serviceBlueprintsTable.ref('i-sDiscov1A'), steps: ['Intro call', 'Qualification', 'Proposal', 'SOW signature'], estimatedHours: 6, automation: 'Semi-automated', version: '2.0', status: 'Active', owner: maya } },
    { id: 'i-wInterv2B', values: { name: 'Stakeholder Interviews', description: 'Plan, run and synthesise interviews.', blueprint: serviceBlueprintsTable.ref('i-sDiscov1A'), steps: '```1. Recruit\n2. Schedule\n3. Interview\n4. Synthesise```', estimatedHours: 14.5, automation: 'Manual', version: '1.3', status: 'Active', owner: priya } },
    { id: 'i-wProcMp3C', values: { name: 'Process Mapping', description: 'Map as-is processes.', blueprint: serviceBlueprintsTable.ref('i-sOpsAud2B'), steps: ['Collect SOPs', 'Shadow staff', 'Draw swimlanes'], estimatedHours: 10, automation: 'Manual', version: '1.0', status: 'Active', owner: daniel } },
    { id: 'i-wScorng4D', values: { name: 'Audit Scoring', description: 'Score each process against the rubric.', blueprint: serviceBlueprintsTable.ref('i-sOpsAud2B'), steps: ['Apply rubric', 'Peer review'], estimatedHours: 4, automation: 'Semi-automated', version: '1.1', status: 'Active', owner: daniel } },
    { id: 'i-wWkshop5E', values: { name: 'Workshop Facilitation', description: 'Run the blueprint workshop.', blueprint: serviceBlueprintsTable.ref('i-sBlueWk3C'), steps: ['Prep board', 'Facilitate', 'Digitise'], estimatedHours: 8, automation: 'Manual', version: '3.0', status: 'Active', owner: tomas } },
    { id: 'i-wPipeln6F', values: { name: 'Data Pipeline Setup', description: 'Connect sources and schedule loads.', blueprint: serviceBlueprintsTable.ref('i-sDashbd4D'), steps: ['Access', 'Extract', 'Model', 'Schedule'], estimatedHours: 20, automation: 'Automated', version: '0.8', status: 'Draft', owner: lena } },
    { id: 'i-wMonthR7G', values: { name: 'Monthly Retainer Review', description: 'Monthly report and review call.', blueprint: serviceBlueprintsTable.ref('i-sRetain5E'), steps: 'Pull metrics → draft report → review call', estimatedHours: 3, automation: 'Semi-automated', version: '1.2', status: 'Active', owner: daniel } },
    { id: 'i-wTrainD8H', values: { name: 'Training Delivery', description: 'Deliver one training session.', blueprint: serviceBlueprintsTable.ref('i-sTrainP7G'), steps: ['Send pre-read', 'Deliver', 'Collect feedback'], estimatedHours: 5, automation: 'Manual', version: '1.1', status: 'Active', owner: tomas } },
    { id: 'i-wLegacy9J', values: { name: 'Legacy Review Checklist', description: 'Old audit flow.', blueprint: serviceBlueprintsTable.ref('i-sLegacy6F'), steps: '', estimatedHours: '', automation: 'Manual', version: '0.9', status: 'Deprecated', owner: maya } },
    { id: 'i-wInvoic0K', values: { name: 'Invoicing', description: 'Monthly invoicing run.', steps: ['Export hours', 'Create invoices', 'Send', 'Chase overdue'], estimatedHours: 2, automation: 'Automated', version: '1.0', status: 'Active', owner: daniel } },
  ],
});

export const processTemplatesTable = defineTable({
  id: 'grid-PrT3mpL86',
  name: 'Process Templates',
  createdAt: '2023-02-10T08:45:00.000Z',
  columns: {
    name: column('c-Tn4mE4pT1a', 'Name', text(), { display: true }),
    workflow: column('c-Tw0rK5fL2b', 'Workflow', lookup('grid-W0rkF1ow5')),
    checklist: column('c-Tc8kL6sT3c', 'Checklist', text(true)),
    kind: column('c-Tt7pE7kN4d', 'Type', select(['Checklist', 'Runbook', 'SOP'])),
    version: column('c-Tv3rS8pT5e', 'Version', text()),
    status: column('c-Ts1tA9pT6f', 'Status', select(STATUS_LIFECYCLE)),
  },
  rows: [
    { id: 'i-tIntake1A', values: { name: 'Intake Checklist', workflow: workflowsTable.ref('i-wIntake1A'), checklist: ['Confirm budget', 'Confirm decision maker', 'Send NDA'], kind: 'Checklist', version: '2.0', status: 'Active' } },
    { id: 'i-tInterv2B', values: { name: 'Interview Runbook', workflow: workflowsTable.ref('i-wInterv2B'), checklist: ['Consent form', 'Recording on', 'Notes template'], kind: 'Runbook', version: '1.3', status: 'Active' } },
    { id: 'i-tProcMp3C', values: { name: 'Process Mapping SOP', workflow: workflowsTable.ref('i-wProcMp3C'), checklist: '- [ ] Collect SOPs\n- [ ] Shadow\n- [x] Template ready', kind: 'SOP', version: '1.0', status: 'Active' } },
    { id: 'i-tScorng4D', values: { name: 'Scoring Rubric v1', workflow: workflowsTable.ref('i-wScorng4D'), checklist: ['Rubric loaded', 'Two reviewers'], kind: 'Checklist', version: '1.1', status: 'Active' } },
    { id: 'i-tWkshop5E', values: { name: 'Workshop Kit', workflow: workflowsTable.ref('i-wWkshop5E'), checklist: ['Room booked', 'Sticky notes', 'Camera'], kind: 'Checklist', version: '3.0', status: 'Active' } },
    { id: 'i-tPipeln6F', values: { name: 'Pipeline Runbook', workflow: workflowsTable.ref('i-wPipeln6F'), checklist: ['Credentials in vault', 'Backfill', 'Alerting'], kind: 'Runbook', version: '0.8', status: 'Draft' } },
    { id: 'i-tMonthR7G', values: { name: 'Monthly Review SOP', workflow: workflowsTable.ref('i-wMonthR7G'), checklist: ['Metrics pulled', 'Report sent 48h before'], kind: 'SOP', version: '1.2', status: 'Active' } },
    { id: 'i-tTrainD8H', values: { name: 'Session Checklist', workflow: workflowsTable.ref('i-wTrainD8H'), checklist: ['Pre-read sent', 'Feedback form'], kind: 'Checklist', version: '1.1', status: 'Active' } },
    { id: 'i-tLegacy9J', values: { name: 'Legacy Audit SOP', workflow: workflowsTable.ref('i-wLegacy9J'), kind: 'SOP', version: '0.9', status: 'Deprecated' } },
    { id: 'i-tInvoic0K', values: { name: 'Invoicing Runbook', workflow: workflowsTable.ref('i-wInvoic0K'), checklist: ['Hours locked', 'Invoices sent', 'Overdue chased'], kind: 'Runbook', version: '1.0', status: 'Active' } },
  ],
});

const PROJECT_STATUSES = ['Planned', 'In Progress', 'On Hold', 'Done', 'Cancelled'];

export const projectsTable = defineTable({
  id: 'grid-Pr0j3ctS7',
  name: 'Projects',
  createdAt: '2023-02-15T09:10:00.000Z',
  columns: {
    name: column('c-Jn4mE1pR1a', 'Name', text(), { display: true }),
    description: column('c-Jd3sC2pR2b', 'Description', text()),
    venture: column('c-Jv3nT3rE3c', 'Venture', lookup('grid-V3ntUr5s3')),
    organization: column('c-Jo7gA4nZ4d', 'Organization', lookup('grid-0rgS4nTx2')),
    template: column('c-Jt3mP5lT5e', 'Process Template', lookup('grid-PrT3mpL86')),
    owner: column('c-Jo2wN6eR6f', 'Owner', people()),
    team: column('c-Jt3aM7mB7g', 'Team', people(true)),
    status: column('c-Js1tA8tS8h', 'Status', select(PROJECT_STATUSES)),
    billable: column('c-Jb1lL9aB9i', 'Billable', checkbox),
    startDate: column('c-Js7aR0tD0j', 'Start Date', date),
    endDate: column('c-Je9nD1dT1k', 'End Date', date),
    tags: column('c-Jt4gS2pR2l', 'Tags', select(['strategy', 'ops', 'data', 'design', 'training', 'internal'], true)),
    budget: column('c-Jb7dG3eT3m', 'Budget', currency),
    milestones: column('c-Jm1lE4sT4n', 'Milestones', text(true), { calculated: true, formula: 'thisRow.Tasks.Filter(Priority="Urgent").FormulaMap(List(CurrentValue.Title, CurrentValue.[Due Date]))' }),
    brief: column('c-Jb9rF5lK5o', 'Brief', { type: 'link', isArray: false, display: 'url' }),
  },
  rows: [
    { id: 'i-jNwDisc1A', values: { name: 'Northwind Discovery', description: 'Discovery sprint on **churn** in the self-serve funnel.', venture: venturesTable.ref('i-vConsul1A'), organization: organizationsTable.ref('i-oNorthw1A'), template: processTemplatesTable.ref('i-tInterv2B'), owner: maya, team: [maya, priya, lena], status: 'In Progress', billable: true, startDate: day('2024-03-04'), endDate: day('2024-03-15'), tags: ['strategy', 'data'], budget: money('18,000.00'), milestones: [['Readout', day('2024-03-15')], ['Interviews done', day('2024-03-11')]], brief: webPage('https://docs.example.com/northwind/brief', 'Northwind brief') } },
    { id: 'i-jVpAudt2B', values: { name: 'VerdePath Operations Audit', description: 'Audit of grant reporting and volunteer onboarding.', venture: venturesTable.ref('i-vConsul1A'), organization: organizationsTable.ref('i-oVerdep2B'), template: processTemplatesTable.ref('i-tProcMp3C'), owner: daniel, team: [daniel, priya], status: 'Done', billable: true, startDate: day('2023-10-02'), endDate: day('2023-11-10'), tags: ['ops'], budget: money(9500) } },
    { id: 'i-jHbWksp3C', values: { name: 'Harborline Blueprint Workshop', description: 'Map the booking-to-delivery service.', venture: venturesTable.ref('i-vAcadem3C'), organization: organizationsTable.ref('i-oHarbor3C'), template: processTemplatesTable.ref('i-tWkshop5E'), owner: tomas, team: [tomas], status: 'In Progress', billable: true, startDate: day('2024-04-22'), endDate: day('2024-05-03'), tags: ['design'], budget: money('4,200.00') } },
    { id: 'i-jHbDash4D', values: { name: 'Harborline KPI Dashboard', description: 'On-time delivery dashboard.\tPhase 1 only.', venture: venturesTable.ref('i-vDataSt6F'), organization: organizationsTable.ref('i-oHarbor3C'), template: processTemplatesTable.ref('i-tPipeln6F'), owner: lena, team: [lena, daniel], status: 'Planned', billable: true, startDate: day('2024-06-03'), tags: ['data'], budget: money(12000) } },
    { id: 'i-jNwRetn5E', values: { name: 'Northwind Ops Retainer', description: 'Monthly retainer, 10 h/month.', venture: venturesTable.ref('i-vConsul1A'), organization: organizationsTable.ref('i-oNorthw1A'), template: processTemplatesTable.ref('i-tMonthR7G'), owner: daniel, team: [daniel], status: 'In Progress', billable: true, startDate: day('2024-01-01'), endDate: day('2024-12-31'), tags: ['ops'], budget: money('2,500.00') } },
    { id: 'i-jOpsKit6F', values: { name: 'OpsKit MVP', description: 'Build the first **OpsKit** templates.\n\nSee the [spec](https://docs.example.com/opskit).', venture: venturesTable.ref('i-vOpsKit2B'), organization: organizationsTable.ref('i-oBright8H'), owner: daniel, team: [daniel, tomas, maya], status: 'On Hold', billable: false, startDate: day('2024-02-05'), tags: ['internal', 'design'] } },
    { id: 'i-jAcadQ27G', values: { name: 'Academy Q2 Cohort', description: 'Training cohort for 12 participants 🎓', venture: venturesTable.ref('i-vAcadem3C'), organization: organizationsTable.ref('i-oKestre4D'), template: processTemplatesTable.ref('i-tTrainD8H'), owner: tomas, team: [tomas, priya], status: 'In Progress', billable: true, startDate: day('2024-04-01'), endDate: day('2024-06-28'), tags: ['training'], budget: money('7,800.00') } },
    { id: 'i-jLumenP8H', values: { name: 'Lumen Proposal', description: '```Proposal for an ops audit (DE). Waiting on budget.```', venture: venturesTable.ref('i-vConsul1A'), organization: organizationsTable.ref('i-oLumenS5E'), template: processTemplatesTable.ref('i-tIntake1A'), owner: maya, team: [maya], status: 'Planned', billable: false, tags: ['strategy'] } },
    { id: 'i-jGrantP9J', values: { name: 'Grant Desk Pilot', description: 'Pilot closed early.', venture: venturesTable.ref('i-vGrant07G'), organization: organizationsTable.ref('i-oVerdep2B'), owner: priya, status: 'Cancelled', billable: false, startDate: day('2023-03-06'), endDate: day('2023-04-28') } },
    { id: 'i-jInvoic0K', values: { name: 'Finance Automation', description: 'Automate invoicing from tracked hours.', venture: venturesTable.ref('i-vIntern5E'), organization: organizationsTable.ref('i-oBright8H'), template: processTemplatesTable.ref('i-tInvoic0K'), owner: daniel, team: [daniel, lena], status: 'Done', billable: false, startDate: day('2023-08-01'), endDate: day('2023-09-15'), tags: ['internal', 'ops'] } },
    { id: 'i-jPodcst1L', values: { name: 'Podcast Season 2', description: '', venture: venturesTable.ref('i-vPodcst8H'), organization: organizationsTable.ref('i-oBright8H'), owner: maya, status: 'On Hold', billable: false, tags: ['internal'] } },
    { id: 'i-jPaperT2M', values: { name: 'Paper Trail Intake', description: 'Inbound lead; first call booked.', venture: venturesTable.ref('i-vConsul1A'), organization: organizationsTable.ref('i-oPaperT6F'), template: processTemplatesTable.ref('i-tIntake1A'), owner: priya, team: [priya], status: 'Planned', billable: true, startDate: day('2024-07-01'), tags: ['strategy'] } },
  ],
});

export const activeProjectsView = projectsTable.view({
  id: 'table-AcTPrj018',
  name: 'Active Projects',
  columns: ['name', 'owner', 'status', 'endDate'],
  where: (values) => values.status === 'In Progress',
});

export const executionRunsTable = defineTable({
  id: 'grid-ExRun5Qa9',
  name: 'Execution Runs',
  createdAt: '2023-03-01T12:00:00.000Z',
  columns: {
    runId: column('c-Xr1nI1dX1a', 'Run ID', text(), { display: true }),
    template: column('c-Xt3mP2lX2b', 'Process Template', lookup('grid-PrT3mpL86')),
    project: column('c-Xp7rJ3cX3c', 'Project', lookup('grid-Pr0j3ctS7')),
    status: column('c-Xs1tA4tX4d', 'Status', select(['Queued', 'Running', 'Succeeded', 'Failed', 'Cancelled'])),
    startedAt: column('c-Xs7aR5tX5e', 'Started At', dateTime),
    endedAt: column('c-Xe9nD6dX6f', 'Ended At', dateTime),
    estimatedHours: column('c-Xe5tH7rX7g', 'Estimated Hours', number()),
    actualHours: column('c-Xa1cT8hX8h', 'Actual Hours', number()),
    notes: column('c-Xn0tE9sX9i', 'Notes', text()),
  },
  rows: [
    { id: 'i-xRun0311A', values: { runId: 'RUN-2024-031', template: processTemplatesTable.ref('i-tInterv2B'), project: projectsTable.ref('i-jNwDisc1A'), status: 'Succeeded', startedAt: at('2024-03-05T09:00:00'), endedAt: at('2024-03-08T17:30:00'), estimatedHours: 14.5, actualHours: 16, notes: 'Six interviews; one no-show.' } },
    { id: 'i-xRun0322B', values: { runId: 'RUN-2024-032', template: processTemplatesTable.ref('i-tInterv2B'), project: projectsTable.ref('i-jNwDisc1A'), status: 'Running', startedAt: at('2024-03-11T09:00:00'), estimatedHours: 6, notes: 'Synthesis in progress' } },
    { id: 'i-xRun0333C', values: { runId: 'RUN-2023-118', template: processTemplatesTable.ref('i-tProcMp3C'), project: projectsTable.ref('i-jVpAudt2B'), status: 'Succeeded', startedAt: at('2023-10-03T10:00:00'), endedAt: at('2023-10-20T16:00:00'), estimatedHours: 10, actualHours: 8.5 } },
    { id: 'i-xRun0344D', values: { runId: 'RUN-2023-119', template: processTemplatesTable.ref('i-tScorng4D'), project: projectsTable.ref('i-jVpAudt2B'), status: 'Succeeded', startedAt: at('2023-10-23T10:00:00'), endedAt: at('2023-10-25T12:15:00'), estimatedHours: 4, actualHours: 4 } },
    { id: 'i-xRun0355E', values: { runId: 'RUN-2024-040', template: processTemplatesTable.ref('i-tWkshop5E'), project: projectsTable.ref('i-jHbWksp3C'), status: 'Queued', estimatedHours: 8, notes: 'Waiting for room booking' } },
    { id: 'i-xRun0366F', values: { runId: 'RUN-2024-012', template: processTemplatesTable.ref('i-tMonthR7G'), project: projectsTable.ref('i-jNwRetn5E'), status: 'Succeeded', startedAt: at('2024-01-29T08:30:00'), endedAt: at('2024-01-29T11:00:00'), estimatedHours: 3, actualHours: 2.5 } },
    { id: 'i-xRun0377G', values: { runId: 'RUN-2024-021', template: processTemplatesTable.ref('i-tMonthR7G'), project: projectsTable.ref('i-jNwRetn5E'), status: 'Succeeded', startedAt: at('2024-02-26T08:30:00'), endedAt: at('2024-02-26T12:45:00'), estimatedHours: 3, actualHours: 4.25, notes: 'Extra analysis requested.' } },
    { id: 'i-xRun0388H', values: { runId: 'RUN-2024-033', template: processTemplatesTable.ref('i-tMonthR7G'), project: projectsTable.ref('i-jNwRetn5E'), status: 'Failed', startedAt: at('2024-03-25T08:30:00'), endedAt: at('2024-03-25T09:10:00'), estimatedHours: 3, actualHours: 0.5, notes: 'Metrics export broke:\n`KeyError: "churn_rate"`' } },
    { id: 'i-xRun0399J', values: { runId: 'RUN-2024-044', template: processTemplatesTable.ref('i-tTrainD8H'), project: projectsTable.ref('i-jAcadQ27G'), status: 'Succeeded', startedAt: at('2024-04-03T14:00:00'), endedAt: at('2024-04-03T16:00:00'), estimatedHours: 5, actualHours: 5.5 } },
    { id: 'i-xRun0400K', values: { runId: 'RUN-2024-045', template: processTemplatesTable.ref('i-tTrainD8H'), project: projectsTable.ref('i-jAcadQ27G'), status: 'Cancelled', startedAt: at('2024-04-17T14:00:00'), estimatedHours: 5, actualHours: 0 } },
    { id: 'i-xRun0411L', values: { runId: 'RUN-2023-090', template: processTemplatesTable.ref('i-tInvoic0K'), project: projectsTable.ref('i-jInvoic0K'), status: 'Succeeded', startedAt: at('2023-09-01T07:00:00'), endedAt: at('2023-09-01T07:20:00'), estimatedHours: 2, actualHours: 0.3, notes: 'First automated run ✅' } },
    { id: 'i-xRun0422M', values: { runId: 'RUN-2024-050', template: processTemplatesTable.ref('i-tIntake1A'), project: projectsTable.ref('i-jPaperT2M'), status: 'Queued', estimatedHours: 6 } },
  ],
});

export const tasksTable = defineTable({
  id: 'grid-T4sKs9Lm0',
  name: 'Tasks',
  createdAt: '2023-02-15T09:30:00.000Z',
  columns: {
    title: column('c-Kt1tL1kS1a', 'Title', text(), { display: true }),
    project: column('c-Kp7rJ2kS2b', 'Project', lookup('grid-Pr0j3ctS7')),
    run: column('c-Kr5uN3kS3c', 'Execution Run', lookup('grid-ExRun5Qa9')),
    assignee: column('c-Ka5sG4kS4d', 'Assignee', people()),
    status: column('c-Ks1tA5kS5e', 'Status', select(['To Do', 'In Progress', 'Blocked', 'Done'])),
    priority: column('c-Kp1rI6kS6f', 'Priority', select(['Low', 'Medium', 'High', 'Urgent'])),
    dueDate: column('c-Kd5uE7kS7g', 'Due Date', date),
    scheduledStart: column('c-Ks5cH8kS8h', 'scheduled_start_date', date),
    scheduledEnd: column('c-Ks5cE9kS9i', 'scheduled_end_date', date),
    estimatedHours: column('c-Ke5tH0kS0j', 'Estimated Hours', number()),
    actualHours: column('c-Ka1cT1kS1k', 'Actual Hours', number()),
    tags: column('c-Kt4gS2kS2l', 'Tags', select(['client', 'internal', 'research', 'writing', 'admin', 'quick win'], true)),
    description: column('c-Kd3sC3kS3m', 'Description', text()),
  },
  rows: [
    { id: 'i-kTask001A', values: { title: 'Recruit interviewees', project: projectsTable.ref('i-jNwDisc1A'), run: executionRunsTable.ref('i-xRun0311A'), assignee: priya, status: 'Done', priority: 'High', dueDate: day('2024-03-05'), scheduledStart: day('2024-03-04'), scheduledEnd: day('2024-03-05'), estimatedHours: 2, actualHours: 2.5, tags: ['client', 'research'] } },
    { id: 'i-kTask002B', values: { title: 'Run interviews (6)', project: projectsTable.ref('i-jNwDisc1A'), run: executionRunsTable.ref('i-xRun0311A'), assignee: priya, status: 'Done', priority: 'High', dueDate: day('2024-03-08'), scheduledStart: day('2024-03-05'), scheduledEnd: day('2024-03-08'), estimatedHours: 9, actualHours: 10, tags: ['client', 'research'] } },
    { id: 'i-kTask003C', values: { title: 'Synthesis board', project: projectsTable.ref('i-jNwDisc1A'), run: executionRunsTable.ref('i-xRun0322B'), assignee: lena, status: 'In Progress', priority: 'Urgent', dueDate: day('2024-03-12'), scheduledStart: day('2024-03-11'), scheduledEnd: day('2024-03-12'), estimatedHours: 6, tags: ['research'], description: 'Cluster quotes by theme.\nTag each with a funnel stage.' } },
    { id: 'i-kTask004D', values: { title: 'Readout deck', project: projectsTable.ref('i-jNwDisc1A'), assignee: maya, status: 'To Do', priority: 'Urgent', dueDate: day('2024-03-15'), scheduledStart: day('2024-03-13'), scheduledEnd: day('2024-03-15'), estimatedHours: 5, tags: ['client', 'writing'], description: '**Must** include the churn model & next steps 📉' } },
    { id: 'i-kTask005E', values: { title: 'Map volunteer onboarding', project: projectsTable.ref('i-jVpAudt2B'), run: executionRunsTable.ref('i-xRun0333C'), assignee: daniel, status: 'Done', priority: 'Medium', dueDate: day('2023-10-13'), estimatedHours: 5, actualHours: 4, tags: ['client'] } },
    { id: 'i-kTask006F', values: { title: 'Score grant reporting', project: projectsTable.ref('i-jVpAudt2B'), run: executionRunsTable.ref('i-xRun0344D'), assignee: daniel, status: 'Done', priority: 'Medium', dueDate: day('2023-10-25'), estimatedHours: 4, actualHours: 4, tags: ['client'] } },
    { id: 'i-kTask007G', values: { title: 'Audit report PDF', project: projectsTable.ref('i-jVpAudt2B'), assignee: maya, status: 'Done', priority: 'High', dueDate: day('2023-11-08'), estimatedHours: 6, actualHours: 7.5, tags: ['client', 'writing'], description: 'Saved to \\\\fileserver\\clients\\verdepath\\audit-final.pdf' } },
    { id: 'i-kTask008H', values: { title: 'Book workshop room', project: projectsTable.ref('i-jHbWksp3C'), run: executionRunsTable.ref('i-xRun0355E'), assignee: tomas, status: 'Blocked', priority: 'High', dueDate: day('2024-04-19'), estimatedHours: 0.5, tags: ['admin', 'quick win'], description: 'Waiting for Wei to confirm the Rotterdam office.' } },
    { id: 'i-kTask009J', values: { title: 'Prepare blueprint board', project: projectsTable.ref('i-jHbWksp3C'), run: executionRunsTable.ref('i-xRun0355E'), assignee: tomas, status: 'In Progress', priority: 'Medium', dueDate: day('2024-04-22'), scheduledStart: day('2024-04-18'), scheduledEnd: day('2024-04-22'), estimatedHours: 3, tags: ['client'] } },
    { id: 'i-kTask010K', values: { title: 'Digitise workshop wall', project: projectsTable.ref('i-jHbWksp3C'), assignee: tomas, status: 'To Do', priority: 'Medium', dueDate: day('2024-05-01'), estimatedHours: 4, tags: ['client'] } },
    { id: 'i-kTask011L', values: { title: 'Source system access', project: projectsTable.ref('i-jHbDash4D'), assignee: lena, status: 'To Do', priority: 'High', dueDate: day('2024-06-07'), estimatedHours: 2, tags: ['client', 'admin'] } },
    { id: 'i-kTask012M', values: { title: 'Define KPI list', project: projectsTable.ref('i-jHbDash4D'), assignee: lena, status: 'To Do', priority: 'Medium', dueDate: day('2024-06-14'), estimatedHours: 3, tags: ['client'] } },
    { id: 'i-kTask013N', values: { title: 'January retainer report', project: projectsTable.ref('i-jNwRetn5E'), run: executionRunsTable.ref('i-xRun0366F'), assignee: daniel, status: 'Done', priority: 'Medium', dueDate: day('2024-01-29'), estimatedHours: 3, actualHours: 2.5, tags: ['client', 'writing'] } },
    { id: 'i-kTask014P', values: { title: 'February retainer report', project: projectsTable.ref('i-jNwRetn5E'), run: executionRunsTable.ref('i-xRun0377G'), assignee: daniel, status: 'Done', priority: 'Medium', dueDate: day('2024-02-26'), estimatedHours: 3, actualHours: 4.25, tags: ['client', 'writing'] } },
    { id: 'i-kTask015Q', values: { title: 'Fix metrics export', project: projectsTable.ref('i-jNwRetn5E'), run: executionRunsTable.ref('i-xRun0388H'), assignee: lena, status: 'In Progress', priority: 'Urgent', dueDate: day('2024-03-27'), estimatedHours: 2, actualHours: 1, tags: ['internal'], description: 'Column renamed upstream: `churn_rate` → `churn_pct`' } },
    { id: 'i-kTask016R', values: { title: 'OpsKit template list', project: projectsTable.ref('i-jOpsKit6F'), assignee: daniel, status: 'Blocked', priority: 'Low', estimatedHours: 4, tags: ['internal'], description: '' } },
    { id: 'i-kTask017S', values: { title: 'Cohort welcome email', project: projectsTable.ref('i-jAcadQ27G'), run: executionRunsTable.ref('i-xRun0399J'), assignee: tomas, status: 'Done', priority: 'Low', dueDate: day('2024-03-29'), estimatedHours: 1, actualHours: 0.5, tags: ['client', 'writing', 'quick win'] } },
    { id: 'i-kTask018T', values: { title: 'Session 2 materials', project: projectsTable.ref('i-jAcadQ27G'), assignee: priya, status: 'In Progress', priority: 'Medium', dueDate: day('2024-04-15'), scheduledStart: day('2024-04-10'), scheduledEnd: day('2024-04-15'), estimatedHours: 6, tags: ['client'] } },
    { id: 'i-kTask019U', values: { title: 'Reschedule cancelled session', project: projectsTable.ref('i-jAcadQ27G'), run: executionRunsTable.ref('i-xRun0400K'), assignee: tomas, status: 'To Do', priority: 'High', dueDate: day('2024-04-24'), estimatedHours: 0.5, tags: ['admin'] } },
    { id: 'i-kTask020V', values: { title: 'Lumen budget follow-up', project: projectsTable.ref('i-jLumenP8H'), assignee: maya, status: 'To Do', priority: 'Low', dueDate: day('2024-07-15'), tags: ['client'], description: '```Call Jonas after the board meeting```' } },
    { id: 'i-kTask021W', values: { title: 'Close grant desk files', project: projectsTable.ref('i-jGrantP9J'), assignee: priya, status: 'Done', priority: 'Low', dueDate: day('2023-05-05'), estimatedHours: 1, actualHours: 1, tags: ['admin'] } },
    { id: 'i-kTask022X', values: { title: 'Invoice automation go-live', project: projectsTable.ref('i-jInvoic0K'), run: executionRunsTable.ref('i-xRun0411L'), assignee: daniel, status: 'Done', priority: 'High', dueDate: day('2023-09-01'), estimatedHours: 2, actualHours: 0.3, tags: ['internal', 'quick win'] } },
    { id: 'i-kTask023Y', values: { title: 'Intake call with Paper Trail', project: projectsTable.ref('i-jPaperT2M'), run: executionRunsTable.ref('i-xRun0422M'), assignee: priya, status: 'To Do', priority: 'Medium', dueDate: day('2024-07-02'), scheduledStart: day('2024-07-02'), scheduledEnd: day('2024-07-02'), estimatedHours: 1, tags: ['client'] } },
    { id: 'i-kTask024Z', values: { title: 'Update website case studies', assignee: lena, status: 'To Do', priority: 'Low', estimatedHours: 3, tags: ['internal', 'writing'], description: 'Line one\u2028line two (U+2028)\r\nthird line with a tab\there' } },
  ],
});

const PRICING_MODELS = ['Fixed fee', 'Time & materials', 'Retainer', 'Subscription'];

export const offersTable = defineTable({
  id: 'grid-0fF3rs7kA',
  name: 'Offers',
  createdAt: '2023-02-20T13:00:00.000Z',
  columns: {
    name: column('c-Fn4mE1oF1a', 'Name', text(), { display: true }),
    blueprint: column('c-Fb1pR2oF2b', 'Service Blueprint', lookup('grid-SbPr1nT54')),
    pricingModel: column('c-Fp7mD3oF3c', 'Pricing Model', select(PRICING_MODELS)),
    price: column('c-Fp3rC4oF4d', 'Price', currency),
    status: column('c-Fs1tA5oF5e', 'Status', select(['Draft', 'Active', 'Retired'])),
    description: column('c-Fd3sC6oF6f', 'Description', text()),
  },
  rows: [
    { id: 'i-fDiscov1A', values: { name: 'Discovery Sprint (2 weeks)', blueprint: serviceBlueprintsTable.ref('i-sDiscov1A'), pricingModel: 'Fixed fee', price: money('18,000.00'), status: 'Active', description: 'Interviews, synthesis and a readout.' } },
    { id: 'i-fOpsAud2B', values: { name: 'Operations Audit', blueprint: serviceBlueprintsTable.ref('i-sOpsAud2B'), pricingModel: 'Fixed fee', price: money(9500), status: 'Active' } },
    { id: 'i-fWkshop3C', values: { name: 'Blueprint Workshop (half day)', blueprint: serviceBlueprintsTable.ref('i-sBlueWk3C'), pricingModel: 'Fixed fee', price: money('1,500.00'), status: 'Active', description: 'Up to **8** participants.' } },
    { id: 'i-fDashbd4D', values: { name: 'KPI Dashboard', blueprint: serviceBlueprintsTable.ref('i-sDashbd4D'), pricingModel: 'Time & materials', price: money(145), status: 'Draft', description: 'Hourly rate; estimate 60–90 h.' } },
    { id: 'i-fRetain5E', values: { name: 'Ops Retainer (10 h/month)', blueprint: serviceBlueprintsTable.ref('i-sRetain5E'), pricingModel: 'Retainer', price: money('2,500.00'), status: 'Active' } },
    { id: 'i-fTrainP6F', values: { name: 'Team Training (4 sessions)', blueprint: serviceBlueprintsTable.ref('i-sTrainP7G'), pricingModel: 'Fixed fee', price: money('7,800.00'), status: 'Active' } },
    { id: 'i-fOpsKit7G', values: { name: 'OpsKit Subscription', pricingModel: 'Subscription', price: money(49, 'EUR'), status: 'Draft', description: 'Per seat per month, billed annually.' } },
    { id: 'i-fLegacy8H', values: { name: 'Legacy Process Review', blueprint: serviceBlueprintsTable.ref('i-sLegacy6F'), pricingModel: 'Fixed fee', price: money('3,000'), status: 'Retired' } },
    { id: 'i-fGrantS9J', values: { name: 'Grant Application Support', blueprint: serviceBlueprintsTable.ref('i-sGrantA8H'), pricingModel: 'Time & materials', price: '', status: 'Draft', description: 'Price to be decided.' } },
  ],
});

export const fixtureDoc: FixtureDoc = {
  id: FIXTURE_DOC_ID,
  name: 'Brightline Consulting: Operations',
  owner: 'maya@brightline.consulting',
  ownerName: 'Maya Okafor',
  createdAt: '2023-01-09T14:55:02.000Z',
  updatedAt: '2024-04-30T16:41:09.000Z',
  tables: [
    peopleTable,
    organizationsTable,
    venturesTable,
    serviceBlueprintsTable,
    workflowsTable,
    processTemplatesTable,
    projectsTable,
    activeProjectsView,
    executionRunsTable,
    tasksTable,
    offersTable,
  ],
};
