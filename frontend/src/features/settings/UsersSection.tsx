// The tenant's people and their roles. Role selects are labelled "Access" so that the
// API token form's "Role" stays the only control of that name on the page.
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from '../../api/hooks';
import { graphql } from '../../gql';
import type { Role, UsersQuery } from '../../gql/graphql';
import { useSession } from '../../session/Session';
import { Badge } from '../../ui/Badge';
import { ConfirmDialog } from '../../ui/Dialog';
import { ErrorAlert, Loaded } from '../../ui/Feedback';
import { Field } from '../../ui/Field';
import { formatDateTime } from '../../ui/format';
import { Table } from '../../ui/Table';
import { useConfirmDelete } from '../../ui/useConfirmDelete';
import { ROLES } from './roles';
import { ROLE_LABEL } from '../../ui/labels';
import { MAX_LENGTH } from '../../api/limits';

const Users = graphql(`
  query Users {
    users {
      id
      email
      displayName
      role
      active
      lastLoginAt
    }
  }
`);

const CreateUser = graphql(`
  mutation CreateUser($input: CreateUserInput!) {
    createUser(input: $input) {
      id
    }
  }
`);

const UpdateUserRole = graphql(`
  mutation UpdateUserRole($id: ID!, $role: Role!) {
    updateUserRole(id: $id, role: $role) {
      id
      role
    }
  }
`);

const DeactivateUser = graphql(`
  mutation DeactivateUser($id: ID!) {
    deactivateUser(id: $id) {
      id
    }
  }
`);

type User = UsersQuery['users'][number];

export function UsersSection() {
  const query = useQuery(Users);
  const { state } = useSession();
  const me = state.status === 'signedIn' ? state.me.user?.id : undefined;
  const updateRole = useMutation(UpdateUserRole);
  const leaving = useConfirmDelete(useMutation(DeactivateUser), { variables: (user: User) => ({ id: user.id }), onDone: query.refetch });

  return (
    <section className="section">
      <h2>Users</h2>
      <Loaded query={query} what="users">
        {({ users }) => (
          <Table label="Users">
            <thead>
              <tr>
                <th scope="col">User</th>
                <th scope="col">Role</th>
                <th scope="col">Last sign-in</th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {users.map((user) => (
                <tr key={user.id}>
                  <td>
                    {user.displayName}
                    <div className="muted">{user.email}</div>
                  </td>
                  <td>
                    {user.active ? (
                      <select
                        aria-label={`Access for ${user.email}`}
                        value={user.role}
                        disabled={updateRole.pending}
                        onChange={async (e) => {
                          if (await updateRole.run({ id: user.id, role: e.target.value as Role })) query.refetch();
                        }}
                      >
                        {ROLES.map((r) => (
                          <option key={r} value={r}>
                            {ROLE_LABEL[r]}
                          </option>
                        ))}
                      </select>
                    ) : (
                      ROLE_LABEL[user.role]
                    )}
                  </td>
                  <td>{formatDateTime(user.lastLoginAt)}</td>
                  <td>
                    {user.active ? (
                      user.id !== me && (
                        <button type="button" className="button button--small button--secondary" onClick={() => leaving.ask(user)}>
                          Deactivate {user.email}
                        </button>
                      )
                    ) : (
                      <Badge>Deactivated</Badge>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </Table>
        )}
      </Loaded>
      {updateRole.error && <ErrorAlert error={updateRole.error} title="Role not changed." />}
      <NewUserForm onCreated={query.refetch} />
      {leaving.target && (
        <ConfirmDialog title={`Deactivate ${leaving.target.email}`} confirmLabel="Deactivate" {...leaving.dialog}>
          <p>Deactivate {leaving.target.email}? They are signed out at their next request and cannot sign in; their history stays.</p>
        </ConfirmDialog>
      )}
    </section>
  );
}

function NewUserForm({ onCreated }: { onCreated: () => void }) {
  const [email, setEmail] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [role, setRole] = useState<Role>('VIEWER');
  const [password, setPassword] = useState('');
  const create = useMutation(CreateUser);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (await create.run({ input: { email, displayName, role, password } })) {
      setEmail('');
      setDisplayName('');
      setPassword('');
      onCreated();
    }
  };

  return (
    <form className="form-row" onSubmit={submit} aria-label="Add a user">
      <Field label="User email">
        {(p) => <input {...p} type="email" value={email} onChange={(e) => setEmail(e.target.value)} required maxLength={MAX_LENGTH.email} />}
      </Field>
      <Field label="Display name">
        {(p) => <input {...p} value={displayName} onChange={(e) => setDisplayName(e.target.value)} required maxLength={MAX_LENGTH.name} />}
      </Field>
      <Field label="Access">
        {(p) => (
          <select {...p} value={role} onChange={(e) => setRole(e.target.value as Role)}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {ROLE_LABEL[r]}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label="Initial password" hint="At least 12 characters.">
        {(p) => (
          <input
            {...p}
            type="password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            minLength={12}
            maxLength={MAX_LENGTH.password}
            required
            autoComplete="new-password"
          />
        )}
      </Field>
      <button type="submit" className="button" disabled={create.pending}>
        Add user
      </button>
      {create.error && <ErrorAlert error={create.error} title="User not added." />}
    </form>
  );
}
