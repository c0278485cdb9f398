// Every app over tree4 (test/userland/fanoutmatrix.ts has the matrix).

import { everyAppOn } from './fanoutmatrix.ts';

everyAppOn({ kind: 'tree', arity: 4 });
