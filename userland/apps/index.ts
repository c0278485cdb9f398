// The apps `margay run` knows by name.

import type { UserProgram } from '../../kernel/abi.ts';
import allreduce from './allreduce.ts';
import am_pingpong from './am_pingpong.ts';
import allsum from './allsum.ts';
import bcast from './bcast.ts';
import busy_handler from './busy_handler.ts';
import cor_touch from './cor_touch.ts';
import dsm_counter from './dsm_counter.ts';
import dsm_falseshare from './dsm_falseshare.ts';
import dsm_fault from './dsm_fault.ts';
import dsm_jacobi from './dsm_jacobi.ts';
import dsm_litmus from './dsm_litmus.ts';
import dsm_matmul from './dsm_matmul.ts';
import ext_pingpong from './ext_pingpong.ts';
import hello from './hello.ts';
import ipc_rpc from './ipc_rpc.ts';
import pingpong from './pingpong.ts';
import ring from './ring.ts';
import splitc_matmul from './splitc_matmul.ts';
import steal from './steal.ts';
import sysexercise from './sysexercise.ts';
import tlbstale from './tlbstale.ts';
import unet_bandwidth from './unet_bandwidth.ts';
import unet_pingpong from './unet_pingpong.ts';

export const APPS: Readonly<Record<string, UserProgram>> = { hello, tlbstale, sysexercise, pingpong, ring, allreduce, bcast, allsum, steal, unet_pingpong, unet_bandwidth, dsm_jacobi, dsm_matmul, dsm_counter, dsm_falseshare, dsm_litmus, dsm_fault, am_pingpong, splitc_matmul, ext_pingpong, busy_handler, cor_touch, ipc_rpc };
