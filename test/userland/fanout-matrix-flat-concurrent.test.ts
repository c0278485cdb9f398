// Every app over flat-concurrent (test/userland/fanoutmatrix.ts has the matrix).

import { everyAppOn } from './fanoutmatrix.ts';

everyAppOn({ kind: 'flat-concurrent' });
