import { cleanup } from '@testing-library/react';
import { afterEach } from 'vitest';

// Testing Library unmounts by itself only when the runner's globals are on; they are not.
afterEach(cleanup);
