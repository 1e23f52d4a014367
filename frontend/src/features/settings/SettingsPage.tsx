import { useCan } from '../../session/Session';
import { PageTitle } from '../../ui/PageTitle';
import { AuditSection } from './AuditSection';
import { ConnectionSection } from './ConnectionSection';
import { PushSettingsSection } from './PushSettingsSection';
import { ScheduleSection } from './ScheduleSection';
import { TokensSection } from './TokensSection';
import { UsersSection } from './UsersSection';

/** Sections appear only for roles that may use them (the server enforces the same). */
export function SettingsPage() {
  const isEditor = useCan('EDITOR');
  const isAdmin = useCan('ADMIN');
  return (
    <>
      <PageTitle>Settings</PageTitle>
      {isEditor && <ConnectionSection />}
      <ScheduleSection />
      <PushSettingsSection />
      {isAdmin && (
        <>
          <TokensSection />
          <UsersSection />
          <AuditSection />
        </>
      )}
    </>
  );
}
