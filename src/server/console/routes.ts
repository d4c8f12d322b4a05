// The console views' API routes, one file per view (routes-*.ts). Each
// registers GET routes for what its view reads and POST routes for what it
// changes, under /console/api/v1/, deciding through ConsoleContext: the
// chat policy for who may, the audit log for every refusal and change.
import type { FastifyInstance } from 'fastify';
import type { ConsoleContext } from './context.ts';
import { overviewRoutes } from './routes-overview.ts';
import { incidentRoutes } from './routes-incidents.ts';
import { detectionRoutes } from './routes-detections.ts';
import { silenceRoutes } from './routes-silences.ts';
import { changeRoutes } from './routes-changes.ts';
import { runsRoutes } from './routes-runs.ts';
import { approvalsRoutes } from './routes-approvals.ts';
import { auditRoutes } from './routes-audit.ts';

export type RegisterRoutes = (app: FastifyInstance, ctx: ConsoleContext) => void;

export const ROUTES: RegisterRoutes[] = [
  overviewRoutes,
  incidentRoutes,
  detectionRoutes,
  silenceRoutes,
  changeRoutes,
  runsRoutes,
  approvalsRoutes,
  auditRoutes,
];
