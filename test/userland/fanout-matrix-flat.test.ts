// Every app over flat (test/userland/fanoutmatrix.ts has the matrix).

import { everyAppOn } from './fanoutmatrix.ts';

everyAppOn({ kind: 'flat' });
