// Every app over binomial (test/userland/fanoutmatrix.ts has the matrix).

import { everyAppOn } from './fanoutmatrix.ts';

everyAppOn({ kind: 'binomial' });
