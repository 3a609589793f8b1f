/**
 * The compute service's own Keystone token (`client/service-credential.ts`): Nova's
 * `get_client(context, admin=True)`, for what Neutron lets only admins do (a port's
 * `binding:host_id`), and the `X-Service-Token` sent beside a user's token (Nova's
 * `[service_user] send_service_user_token`).
 */
export interface ServiceAuth {
  token(): Promise<string>;
}
